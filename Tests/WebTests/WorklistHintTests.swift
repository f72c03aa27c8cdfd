import Clinical
@testable import RulesEngine
import Testing
@testable import Web

@Suite("What a worklist says about review invitations")
struct WorklistHintTests {
    static func step(_ dates: [String: String]) -> Explanation.Step {
        Explanation.Step(
            chain: "HYP008 denominator", rule: 7,
            condition: "(BP_DAT is not null and HYPINVITE1_DAT > BP_DAT and HYPINVITE2_DAT is not null) or (BP_DAT is null and HYPINVITE1_DAT is not null and HYPINVITE2_DAT is not null)",
            describe: nil, result: false, action: "next", field: "HYPBPINV", facts: [], dates: dates)
    }

    @Test("one invitation: the second is due 7 days later")
    func secondDue() {
        let hint = Worklist.invitationHint([Self.step(["HYPINVITE1_DAT": "2026-02-03"])])
        #expect(hint.facts == ["first invitation sent 2026-02-03; a second is due from 2026-02-10"])
        #expect(hint.nextStep == Day(iso: "2026-02-10"), "the worklist's due-date order puts this patient by the second invitation's date")
    }

    @Test("no invitation yet, and both sent")
    func noneAndBoth() {
        #expect(Worklist.invitationHint([Self.step([:])]).facts == ["no review invitation sent this year"])
        #expect(Worklist.invitationHint([Self.step(["HYPINVITE1_DAT": "2025-11-01", "HYPINVITE2_DAT": "2025-11-20"])]).facts == ["invited on 2025-11-01 and 2025-11-20"])
    }

    @Test("an indicator without invitation rules says nothing about them")
    func noInvitationRule() {
        let s = Explanation.Step(chain: "BP002 denominator", rule: 1, condition: "PAT_AGE < 45", describe: nil, result: false, action: "next",
                                 field: "PAT_AGEU45", facts: [], dates: [:])
        #expect(Worklist.invitationHint([s]).facts.isEmpty)
    }
}

extension WorklistHintTests {
    @Test("'new to the practice or the register' means a registration or diagnosis rule, never an age rule (VI004 listed every 80-year-old)")
    func newcomers() throws {
        let qof = WorklistTests.qof
        func rules(_ id: String) -> [Rule] { qof.indicators.first { $0.id == id }!.denominator.rules }
        #expect(rules("VI004").allSatisfy { !Worklist.leavesOutNewcomers($0) })
        #expect(rules("HYP008").contains { Worklist.leavesOutNewcomers($0) && $0.references.contains("REG_DAT") })
        #expect(rules("HYP008").contains { Worklist.leavesOutNewcomers($0) && !$0.references.contains("REG_DAT") }, "a diagnosis rule")
    }
}

extension WorklistHintTests {
    @Test("what is missing is said in words, never in rule syntax, for every numerator rule the rule files give no words for")
    func plainWords() {
        let qof = WorklistTests.qof
        var checked = 0
        for indicator in qof.indicators {
            for (n, rule) in indicator.numerator.rules.enumerated() where rule.describe == nil {
                let words = Worklist.words(forRule: n + 1, of: indicator, fields: qof.fields)
                #expect(!words.contains("_DAT") && !words.contains("is not null") && !words.contains("PPED") && !words.contains(" <= "),
                        "\(indicator.id) numerator \(n + 1): \(words)")
                checked += 1
            }
        }
        #expect(checked > 0)
    }
}
