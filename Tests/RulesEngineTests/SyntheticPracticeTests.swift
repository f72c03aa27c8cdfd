import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import RulesEngine
import Synth
import Testing

@Suite("A whole synthetic practice")
struct SyntheticPracticeTests {
    @Test("per-rule counts add up for every indicator, and CSV and FHIR extracts give identical results")
    func countsAddUp() throws {
        let synth = Synthesizer(library: Fixtures.library, deprivation: try Deprivation.imd2025())
        var o = Synthesizer.Options()
        o.seed = 5
        o.practices = 1
        o.patients = 3_000
        let base = FileManager.default.temporaryDirectory.appending(path: "qofd-engine-\(UUID().uuidString)")
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

    @Test("points are linear between the thresholds (HYP008 at 70% with 40–85 earns 25.33 of 38)")
    func pointsArithmetic() {
        #expect(abs(points(achievement: 70, lower: 40, upper: 85, max: 38) - 25.333) < 0.001)
        #expect(points(achievement: 40, lower: 40, upper: 85, max: 38) == 0)
        #expect(points(achievement: 85, lower: 40, upper: 85, max: 38) == 38)
        #expect(points(achievement: 99, lower: 40, upper: 85, max: 38) == 38)
        #expect(points(achievement: nil, lower: 40, upper: 85, max: 38) == 0)
    }
}
