import Clinical
import Extracts
import Foundation
@testable import RulesEngine
import Testing
import TestSupport

/// The engine's shortcuts (fields worked out only for the indicators open to a patient, registers
/// decided without their chains for patients with none of their records, shifted birth dates turned
/// into thresholds) must never change a count or an outcome.
@Suite("Engine shortcuts")
struct EngineShortcutsTests {
    @Test("gated evaluation gives the same registers, counts and patients as working out every field", arguments: [
        ("qof-2025-26", "2026-03-31"), ("qof-2024-25", "2025-03-31"), ("flu-2025-26", "2026-01-31"), ("shingles-2025-26", "2026-03-31"),
    ])
    func gatedEqualsPlain(ruleset id: String, dataTo: String) throws {
        let synth = try SyntheticPracticeTests.synthesizer()
        var o = SyntheticPracticeTests.onePractice(seed: 21)
        o.dataTo = Day(iso: dataTo)!
        let base = TestFolders.make("shortcuts")
        defer { try? FileManager.default.removeItem(at: base) }
        let extract = try synth.write(o, to: base)[0]
        let population = try #require(ExtractLoader().load(extract.directory).population)
        let ruleset = try #require(Fixtures.rulesets[id])
        let gated = Engine(try CompiledRuleset(ruleset, library: Fixtures.library))
        let plain = Engine(try CompiledRuleset(ruleset, library: Fixtures.library, shortcuts: false))
        #expect(gated.compiled.gates.any != .zero, "the ruleset has fields to gate")
        let a = gated.evaluate(population, patientOutcomes: true)
        let b = plain.evaluate(population, patientOutcomes: true)
        #expect(a.registers == b.registers)
        #expect(a.indicators == b.indicators)
        #expect(a.listSize == b.listSize)
        let key = { (o: PatientOutcome) in "\(o.indicator)|\(o.patient)|\(o.outcome)|\(o.rule ?? "")|\(o.field ?? "")" }
        #expect(Set(a.patients!.map(key)) == Set(b.patients!.map(key)))
        #expect(a.indicators.contains { $0.denominator > 0 }, "some indicator has patients")
    }

    @Test("a ruleset with more than 64 indicators keeps every one of them in its masks")
    func manyIndicators() throws {
        let compiled = try CompiledRuleset(try #require(Fixtures.rulesets["qof-2024-25"]), library: Fixtures.library)
        #expect(compiled.ruleset.indicators.count > 64)
        let all = compiled.gates.indicatorsOfRegister.reduce(IndicatorMask.zero, |)
        #expect((0..<4).map { all[$0].nonzeroBitCount }.reduce(0, +) == compiled.ruleset.indicators.count)
    }

    @Test("a register whose rules need a record, or another such register, is decided without them; one that needs an age is not")
    func registerShortcuts() throws {
        let compiled = try CompiledRuleset(try #require(Fixtures.rulesets["qof-2025-26"]), library: Fixtures.library)
        let decision = Dictionary(uniqueKeysWithValues: zip(compiled.ruleset.registers.map(\.id), compiled.shortcuts.decision))
        #expect(decision["LIST"] == .some(true))
        #expect(decision["HYP_REG"] == .some(false))
        #expect(decision["DM_REG"] == .some(false))
        #expect(decision["CS_REG"] == .some(nil), "women aged 25 to 64 need no record")
        #expect(decision["CHOL_REG"] == .some(false), "made of registers that need records")
        #expect(decision["SMOK_REG"] == .some(false))
        #expect(decision["SMOKER_REG"] == .some(nil), "its first rule tests the age")
        let chd = try #require(compiled.ruleset.fields.firstIndex { $0.name == "CHDLAT_DAT" })
        let smokReg = try #require(compiled.ruleset.registers.firstIndex { $0.id == "SMOK_REG" })
        #expect(compiled.shortcuts.triggers[chd] & (1 << UInt64(smokReg)) != 0, "a CHD record sends SMOK_REG down its chain")
    }

    @Test("a shifted birth date against a fixed day is the birth date against a threshold, month ends and 29 February included")
    func birthThresholds() throws {
        let births = Day(iso: "1940-01-01")!.daysSinceEpoch...Day(iso: "2026-03-31")!.daysSinceEpoch
        let shifts: [(Int, RulesEngine.Expression.DateUnit)] = [(8, .months), (18, .months), (5, .years), (80, .years), (-1, .months), (10, .days)]
        let days = ["2025-03-31", "2024-02-29", "2025-04-01", "2026-02-28"].map { Day(iso: $0)! }
        for (amount, unit) in shifts {
            for c in days {
                for op in [RulesEngine.Expression.Comparison.lt, .le, .gt, .ge] {
                    let t = try #require(Program.birthThreshold(amount: amount, unit: unit, op, c))
                    var wrong = 0
                    for d in births {
                        let birth = Day(daysSinceEpoch: d)
                        let shifted = CompiledRuleset.shift(birth, amount, unit)
                        let expected = switch op {
                        case .lt: shifted < c
                        case .le: shifted <= c
                        case .gt: shifted > c
                        default: shifted >= c
                        }
                        let got = t.op == .gt ? birth > t.day : birth <= t.day
                        if got != expected { wrong += 1 }
                    }
                    #expect(wrong == 0, "PAT_DOB + \(amount) \(unit) \(op) \(c): \(wrong) birth dates decided wrongly")
                }
            }
        }
    }
}
