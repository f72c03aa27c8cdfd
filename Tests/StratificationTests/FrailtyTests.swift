import Clinical
import Clusters
import Stratification
import Testing

/// The eFI estimate at its boundaries (facts §2): deficits ÷ 36 against 0.12 / 0.24 / 0.36, the 0.36 rule
/// (13 deficits) both ways, polypharmacy at 4 against 5 different medicines in 12 months, deficits dated after
/// the day left out, the minimum age, and a recorded frailty always preferred to the estimate.
@Suite("Frailty: the eFI estimate and recorded frailty")
struct FrailtyTests {
    static let library = try! ClusterLibrary.bundled()
    static let model = try! FrailtyModel.bundled(library: library)
    static let day = Day(iso: "2026-03-31")!

    /// For each deficit, a concept in no other deficit's list (the lists overlap a little), so counts are exact.
    static let deficitConcepts: [UInt64] = model.deficits.map { d in
        let others = model.deficits.filter { $0.name != d.name }.reduce(into: Set<UInt64>()) { $0.formUnion($1.concepts) }
        return d.concepts.subtracting(others).min()!
    }

    struct Person {
        var born = "1950-06-01"
        var events: [(UInt64, String, Float)] = []
        var medications: [(UInt64, String)] = []
    }

    static func population(_ people: [Person]) -> Population {
        TestPopulation.build(people.map { TestPerson(born: $0.born, events: $0.events, medicines: $0.medications) })
    }

    static func withDeficits(_ n: Int) -> Person {
        Person(events: deficitConcepts.prefix(n).map { ($0, "2020-01-01", .nan) })
    }

    @Test("the shipped model: 35 coded deficits, each with codes, plus polypharmacy, over 36")
    func shippedModel() {
        #expect(Self.model.deficits.count == 35 && Self.model.deficitCount == 36)
        #expect(Self.model.deficits.allSatisfy { !$0.concepts.isEmpty } && Self.model.missingLists.isEmpty)
        #expect(Self.model.rounding == .exact && Self.model.minimumAge == 65)
    }

    @Test("4, 5, 8, 9, 12, 13 and 14 deficits: fit, mild, mild, moderate, moderate, severe, severe (exact); 13 is moderate when rounded")
    func boundaries() throws {
        let counts = [4, 5, 8, 9, 12, 13, 14]
        let pop = Self.population(counts.map(Self.withDeficits))
        let exact = FrailtyAssessor(model: Self.model, population: pop)
        let expected: [FrailtyCategory] = [.fit, .mild, .mild, .moderate, .moderate, .severe, .severe]
        for (i, n) in counts.enumerated() {
            let a = try #require(exact.assess(i, on: Self.day))
            #expect(a.source == .estimated && a.deficits.count == n && a.score == Double(n) / 36)
            #expect(a.category == expected[i], "\(n) deficits")
        }
        let rounded = FrailtyAssessor(model: try FrailtyModel.bundled(library: Self.library, rounding: .twoDecimals), population: pop)
        #expect(rounded.assess(5, on: Self.day)?.category == .moderate, "13/36 rounds to 0.36, not above it")
        #expect(rounded.assess(6, on: Self.day)?.category == .severe)
    }

    @Test("polypharmacy: 5 different medicines in the 12 months count as a deficit; 4, the same one 5 times, or older issues do not")
    func polypharmacy() throws {
        let meds: [UInt64] = Array(Self.library["opensafely-antiplatelets"]!.concepts.sorted().prefix(3))
            + Array(Self.library["opensafely-warfarin"]!.concepts.sorted().prefix(2))
        var five = Self.withDeficits(4)
        five.medications = meds.map { ($0, "2025-12-01") }
        var four = five
        four.medications.removeLast()
        var same = Self.withDeficits(4)
        same.medications = (0..<5).map { _ in (meds[0], "2026-01-01") }
        var old = Self.withDeficits(4)
        old.medications = meds.map { ($0, "2025-03-31") }  // 12 months before the day: outside
        let a = FrailtyAssessor(model: Self.model, population: Self.population([five, four, same, old]))
        #expect(a.assess(0, on: Self.day)?.deficits.count == 5 && a.assess(0, on: Self.day)?.category == .mild)
        for i in 1...3 { #expect(a.assess(i, on: Self.day)?.deficits.count == 4, "patient \(i)") }
    }

    @Test("deficits recorded after the day do not count; under 65 on the day there is no assessment")
    func datesAndAge() throws {
        var later = Self.withDeficits(5)
        later.events[4].1 = "2026-04-01"
        var young = Self.withDeficits(10)
        young.born = "1961-04-01"  // 64 on 31 March 2026
        let a = FrailtyAssessor(model: Self.model, population: Self.population([later, young]))
        #expect(a.assess(0, on: Self.day)?.category == .fit)
        #expect(a.assess(1, on: Self.day) == nil)
        #expect(a.assess(1, on: Day(iso: "2026-04-01")!) != nil, "65 the next day")
    }

    @Test("a recorded frailty is the truth: the latest code or eFI score wins over any estimate; an unusable score is ignored")
    func recorded() throws {
        let severe = Self.library["SEVFRAIL_COD"]!.concepts.min()!, mild = Self.library["MILDFRAIL_COD"]!.concepts.min()!
        let efi = Self.library["EFI_COD"]!.concepts.min()!
        var coded = Self.withDeficits(2)
        coded.events += [(mild, "2024-01-01", .nan), (severe, "2025-06-01", .nan)]
        var scored = Self.withDeficits(14)
        scored.events.append((efi, "2025-09-01", 0.2))
        var unusable = Self.withDeficits(9)
        unusable.events.append((efi, "2025-09-01", 27))
        let a = FrailtyAssessor(model: Self.model, population: Self.population([coded, scored, unusable]))
        let c = try #require(a.assess(0, on: Self.day))
        #expect(c.source == .recorded && c.category == .severe && c.score == nil && c.recordedOn == Day(iso: "2025-06-01"))
        let s = try #require(a.assess(1, on: Self.day))
        #expect(s.source == .recorded && s.category == .mild && abs((s.score ?? 0) - 0.2) < 1e-6, "the recorded score, not 14 deficits")
        let u = try #require(a.assess(2, on: Self.day))
        #expect(u.source == .estimated && u.category == .moderate)
    }
}
