import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import Stratification
import Synth
import Testing

/// The summary counts every cohort in one pass per patient; the cohort pages list members with the plain
/// reference (`CohortFinder`, with words). On generated practices the two agree for every cohort; the people
/// the data misses are cohorts too, tested at their boundaries.
@Suite("Cohort counts and the people the data misses")
struct CohortCountingTests {
    static let library = CohortTests.library
    static let stratifier = CohortTests.stratifier
    static let imd = try! Deprivation.imd2025AcceptingLSOA2011()

    @Test("the counted members of every cohort equal the reference finder's, on generated practices", arguments: [7, 31, 62] as [UInt64])
    func countsAgreeWithTheReference(seed: UInt64) throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "cohort-count-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = 1
        o.patients = 2_500
        let written = try Synthesizer(library: Self.library, deprivation: try Deprivation.imd2025()).write(o, to: base)
        let population = try #require(ExtractLoader().load(written[0].directory).population)
        let decile: (String) -> Int? = { Self.imd.areas[$0]?.decile }
        let summary = Self.stratifier.summarise(population, on: population.dataTo, decile: decile)
        let finder = CohortFinder(stratifier: Self.stratifier, population: population, decile: decile)
        var nonEmpty = 0
        for cohort in Self.stratifier.cohorts {
            let reference = finder.members(cohort, on: population.dataTo).count
            let counted = summary.counts.first { $0.measure == "cohort" && $0.category == cohort.id && $0.dimension == "all" }?.value ?? 0
            #expect(counted == reference, "\(cohort.id)")
            if reference > 0 { nonEmpty += 1 }
            // Each breakdown adds up to the same members.
            for d in ["imd_quintile", "ethnic_group", "sex", "age_band"] {
                #expect(summary.counts.filter { $0.measure == "cohort" && $0.category == cohort.id && $0.dimension == d }.reduce(0) { $0 + $1.value } == counted)
            }
        }
        #expect(nonEmpty >= 6, "the generated practice reaches most cohorts")
    }

    static func members(_ cohort: String, _ people: [TestPerson]) -> [Int] {
        let population = TestPopulation.build(people)
        let decile: (String) -> Int? = { Self.imd.areas[$0]?.decile }
        let c = Self.stratifier.cohorts.first { $0.id == cohort }!
        let reference = CohortFinder(stratifier: Self.stratifier, population: population, decile: decile).members(c, on: TestPopulation.day).map(\.row)
        let counted = Self.stratifier.summarise(population, on: TestPopulation.day, decile: decile).counts
            .first { $0.measure == "cohort" && $0.category == cohort && $0.dimension == "all" }?.value ?? 0
        #expect(counted == reference.count, "\(cohort): counted and listed agree")
        return reference
    }

    static func code(_ list: String) -> UInt64 { Self.library[list]!.concepts.min()! }

    @Test("no contact: registered 12 months or more (not 11) and nothing coded in the 36 months up to the date")
    func noContact() {
        let seen = (Self.code("BMIVAL_COD"), "2023-04-01", Float(25))     // 36 months before 31 March 2026 + 1 day: inside
        let justOutside = (Self.code("BMIVAL_COD"), "2023-03-31", Float(25))
        let people = [
            TestPerson(born: "1980-01-01", events: [seen]),
            TestPerson(born: "1980-01-01", events: [justOutside]),
            TestPerson(born: "1980-01-01", events: [], registered: "2025-03-31"),
            TestPerson(born: "1980-01-01", events: [], registered: "2025-04-01"),
            TestPerson(born: "1980-01-01", medicines: [(Self.code("STAT_COD"), "2026-01-01")]),
        ]
        #expect(Self.members("gap-no-contact", people) == [1, 2, 4], "a medicine issue alone is not a contact")
    }

    @Test("no blood pressure ever: from age 40, however long ago a reading was")
    func noBloodPressure() {
        let bp = (Self.code("BP_COD"), "1999-05-01", Float(130))
        let people = [
            TestPerson(born: "1986-03-31"),                  // 40 on the date
            TestPerson(born: "1986-04-01"),                  // 39
            TestPerson(born: "1950-01-01", events: [bp]),
        ]
        #expect(Self.members("gap-no-blood-pressure", people) == [0])
    }

    @Test("no ethnicity and no area: an empty column, or a code or area the tables do not know")
    func noEthnicityOrArea() throws {
        let white = try #require(EthnicGroups.bundled().groups16.keys.first)
        let known = try #require(Self.imd.areas.keys.first)
        let people = [
            TestPerson(born: "1980-01-01", lsoa: known, ethnicity: white),
            TestPerson(born: "1980-01-01", lsoa: nil, ethnicity: nil),
            TestPerson(born: "1980-01-01", lsoa: "E01999999", ethnicity: 999_999_999),
        ]
        #expect(Self.members("gap-no-ethnicity", people) == [1, 2])
        #expect(Self.members("gap-no-area", people) == [1, 2])
    }
}
