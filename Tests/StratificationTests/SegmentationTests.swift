import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import Stratification
import Synth
import Testing

/// The GP-data segmentation at its boundaries: the highest-need segment wins, four long-term conditions are
/// complex and three stable, a resolved condition does not count, pregnancy within 9 months and infancy are
/// maternity; every patient of a synthetic practice is in exactly one segment; Core20 from the IMD decile.
@Suite("Segmentation and Core20PLUS5")
struct SegmentationTests {
    static let library = try! ClusterLibrary.bundled()
    static let model = try! SegmentationModel.bundled(library: library)
    static let ethnic = try! EthnicGroups.bundled()
    static let day = Day(iso: "2026-03-31")!
    static func code(_ list: String) -> UInt64 { library[list]!.concepts.min()! }

    struct Person {
        var born = "1970-01-01"
        var lsoa: String? = nil
        var events: [(String, String)] = []
    }

    static func population(_ people: [Person]) -> Population {
        TestPopulation.build(people.map { p in TestPerson(born: p.born, lsoa: p.lsoa, events: p.events.map { (code($0.0), $0.1, .nan) }) })
    }

    static func segments(_ people: [Person], decile: @escaping (String) -> Int? = { _ in nil }) -> [String] {
        let pop = population(people)
        let s = Segmenter(model: model, population: pop, frailty: FrailtyAssessor(model: try! FrailtyModel.bundled(library: library), population: pop),
                          ethnicGroups: ethnic, decile: decile)
        return pop.patientIDs.indices.map { model.segments[s.assign($0, on: day).segment].id }
    }

    static let ltcs = ["HYP_COD", "DM_COD", "CHD_COD", "AST_COD"]

    @Test("the highest need wins, and each boundary falls where the model says")
    func boundaries() {
        let people: [(Person, String)] = [
            (Person(events: [("PALCARE_COD", "2025-01-01"), ("DEM_COD", "2024-01-01")] + Self.ltcs.map { ($0, "2015-01-01") }), "end-of-life"),
            (Person(born: "1940-01-01", events: [("MODFRAIL_COD", "2025-06-01")]), "frailty"),
            (Person(born: "1940-01-01", events: [("MILDFRAIL_COD", "2025-06-01")] + Self.ltcs.prefix(1).map { ($0, "2015-01-01") }), "stable-ltc"),
            (Person(events: [("DEM_COD", "2024-01-01")]), "frailty"),
            (Person(events: [("LD_COD", "2005-01-01")] + Self.ltcs.map { ($0, "2015-01-01") }), "disability"),
            (Person(events: Self.ltcs.map { ($0, "2015-01-01") }), "complex"),
            (Person(events: Self.ltcs.prefix(3).map { ($0, "2015-01-01") }), "stable-ltc"),
            (Person(events: [("HYP_COD", "2015-01-01"), ("HYPRES_COD", "2020-01-01")]), "healthy"),
            (Person(events: [("HYP_COD", "2015-01-01"), ("HYPRES_COD", "2020-01-01"), ("HYP_COD", "2022-01-01")]), "stable-ltc"),
            (Person(born: "2025-06-01"), "maternity-infancy"),
            (Person(born: "2025-03-31"), "healthy"),  // 1 year old on the day
            (Person(born: "1995-01-01", events: [("PREG_COD", "2025-07-15")]), "maternity-infancy"),
            (Person(born: "1995-01-01", events: [("PREG_COD", "2025-06-01")]), "healthy"),  // 10 months ago
            (Person(events: [("HYP_COD", "2026-04-01")]), "healthy"),  // after the day
            (Person(), "healthy"),
        ]
        let got = Self.segments(people.map(\.0))
        for (i, (_, expected)) in people.enumerated() { #expect(got[i] == expected, "person \(i)") }
    }

    @Test("the acute segment rests on a list qofd does not ship, and says so; the last segment takes everyone")
    func modelShape() throws {
        #expect(Self.model.missingLists.contains("ACUTE_COD"))
        #expect(Self.model.segments.last?.id == "healthy" && Self.model.segments.count == 8)
        #expect(Self.model.longTermConditions.count == 17)
        #expect(throws: FrailtyModelError.self) {
            try SegmentationModel.parse("segments:\n  - {id: a, when: [{any: [HYP_COD]}]}\n", file: "bad.yaml", library: Self.library)
        }
    }

    @Test("every patient of a synthetic practice is in exactly one segment, and the segments add up to the list")
    func syntheticPractice() throws {
        let base = FileManager.default.temporaryDirectory.appending(path: "seg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        var o = Synthesizer.Options()
        o.seed = 5
        o.practices = 1
        o.patients = 4_000
        let written = try Synthesizer(library: Self.library).write(o, to: base)
        let pop = try #require(ExtractLoader().load(written[0].directory).population)
        let s = Segmenter(model: Self.model, population: pop, frailty: FrailtyAssessor(model: try FrailtyModel.bundled(library: Self.library), population: pop),
                          ethnicGroups: Self.ethnic, decile: { _ in nil })
        var counts = [Int](repeating: 0, count: Self.model.segments.count)
        var registered = 0
        for p in pop.patientIDs.indices where pop.isRegisteredAndAlive(p, on: o.dataTo) {
            registered += 1
            counts[s.assign(p, on: o.dataTo).segment] += 1
        }
        #expect(counts.reduce(0, +) == registered && registered > 3_000)
        let named = Dictionary(uniqueKeysWithValues: zip(Self.model.segments.map(\.id), counts))
        #expect(named["healthy"]! > 0 && named["stable-ltc"]! > 0 && named["complex"]! > 0 && named["frailty"]! > 0, "\(named)")
    }

    @Test("Core20 from the IMD decile of the patient's area; PLUS groups and clinical areas from the record")
    func core20PlusFive() throws {
        let imd = try Deprivation.imd2025()
        let deprived = try #require(imd.areas.values.first { $0.decile == 1 }).lsoa
        let affluent = try #require(imd.areas.values.first { $0.decile == 10 }).lsoa
        let people = [Person(lsoa: deprived, events: [("LD_COD", "2005-01-01"), ("HYP_COD", "2015-01-01"), ("MH_COD", "2016-01-01")]),
                      Person(lsoa: affluent), Person()]
        let pop = Self.population(people)
        let s = Segmenter(model: Self.model, population: pop, frailty: nil, ethnicGroups: Self.ethnic, decile: { imd.areas[$0]?.decile })
        let a = s.assign(0, on: Self.day)
        #expect(a.core20 == true && a.longTermConditions == 2)
        #expect(Set(a.plus) == ["learning disability", "multiple long-term conditions"] && Set(a.five) == ["hypertension", "severe mental illness"])
        #expect(s.assign(1, on: Self.day).core20 == false && s.assign(2, on: Self.day).core20 == nil)
    }
}
