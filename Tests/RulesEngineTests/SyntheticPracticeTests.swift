import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import RulesEngine
import Synth
import Testing
import TestSupport

@Suite("A whole synthetic practice")
struct SyntheticPracticeTests {
    /// The generator with the test library (every cluster has codes, as after a refset import).
    static func synthesizer() throws -> Synthesizer { Synthesizer(library: Fixtures.library, deprivation: try Deprivation.imd2025()) }

    /// One practice of 3,000 patients.
    static func onePractice(seed: UInt64) -> Synthesizer.Options {
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = 1
        o.patients = 3_000
        return o
    }

    @Test("per-rule counts add up for every indicator, and CSV and FHIR extracts give identical results")
    func countsAddUp() throws {
        let synth = try Self.synthesizer()
        var o = Self.onePractice(seed: 5)
        let base = TestFolders.make("engine")
        let csv = try synth.write(o, to: base.appending(path: "csv"))[0]
        o.encoding = .fhirNDJSON
        let fhir = try synth.write(o, to: base.appending(path: "fhir"))[0]
        let engine = Engine(try CompiledRuleset(Fixtures.rulesets["qof-2025-26"]!, library: Fixtures.library))
        let a = engine.evaluate(try #require(ExtractLoader().load(csv.directory).population), patientOutcomes: true)
        let b = engine.evaluate(try #require(ExtractLoader().load(fhir.directory).population), patientOutcomes: true)
        #expect(a.indicators == b.indicators)
        #expect(a.registers == b.registers)
        #expect(Set(a.patients!) == Set(b.patients!))
        for r in a.indicators {
            #expect(r.registerSize == r.denominator + r.fields.values.reduce(0, +), "\(r.id)")
            #expect(r.denominator >= r.numerator, "\(r.id)")
            #expect(r.denominator > 0, "\(r.id) should have a denominator in a 3,000-patient practice")
            let outcomes = a.patients!.filter { $0.indicator == r.id }
            #expect(outcomes.filter { $0.outcome == .numerator }.count == r.numerator)
            #expect(outcomes.filter { $0.outcome == .numerator || $0.outcome == .denominator }.count == r.denominator)
            #expect(outcomes.count == r.registerSize, "every patient on the register has an outcome, and no one else")
        }
    }

    @Test("2024/25 on a practice a year earlier: counts add up, and protected indicators keep no patients")
    func lastYearCountsAddUp() throws {
        let synth = try Self.synthesizer()
        var o = Self.onePractice(seed: 6)
        o.dataTo = Day(iso: "2025-03-31")!
        let base = TestFolders.make("engine-2425")
        let csv = try synth.write(o, to: base)[0]
        let ruleset = try #require(Fixtures.rulesets["qof-2024-25"])
        let result = Engine(try CompiledRuleset(ruleset, library: Fixtures.library))
            .evaluate(try #require(ExtractLoader().load(csv.directory).population), patientOutcomes: true)
        #expect(result.indicators.count == 76)
        let protected = Set(ruleset.indicators.filter { $0.payment == .protected }.map(\.id))
        for r in result.indicators {
            #expect(r.registerSize == r.denominator + r.fields.values.reduce(0, +) + (protected.contains(r.id) ? r.registerSize : 0), "\(r.id)")
            #expect(r.denominator >= r.numerator, "\(r.id)")
            if protected.contains(r.id) {
                #expect(r.denominator == 0 && r.points == 0, "\(r.id): paid at last year's points, not counted")
            } else {
                #expect(r.denominator > 0, "\(r.id) should have a denominator in a 3,000-patient practice")
            }
        }
        #expect(!result.patients!.contains { protected.contains($0.indicator) && $0.outcome != .excluded })
    }

    @Test("points are linear between the thresholds (HYP008 at 70% with 40–85 earns 25.33 of 38)")
    func pointsArithmetic() {
        #expect(abs(points(achievement: 70, lower: 40, upper: 85, max: 38) - 25.333) < 0.001)
        #expect(points(achievement: 40, lower: 40, upper: 85, max: 38) == 0)
        #expect(points(achievement: 85, lower: 40, upper: 85, max: 38) == 38)
        #expect(points(achievement: 99, lower: 40, upper: 85, max: 38) == 38)
        #expect(points(achievement: nil, lower: 40, upper: 85, max: 38) == 0)
    }
}
