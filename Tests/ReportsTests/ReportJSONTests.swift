import Foundation
@testable import Reports
import Testing

@Suite("The JSON report")
struct ReportJSONTests {
    static func data(subjects: Bool, optionals: Bool) -> ReportData {
        let indicator = ReportData.Indicator(
            id: "HYP008", describe: "BP ≤ 140/90 \"quoted\" \\ back\nline/slash", group: "Hypertension", register: "HYP_REG",
            registerSize: 1_322, denominator: 995, numerator: 645, pcas: ["HYPPCADEC": 3, "BPDEC": 0], exclusions: ["PAT_AGEO79": 12],
            achievement: optionals ? 64.824120603015 : nil, lowerThreshold: 40, upperThreshold: 77, points: optionals ? 25.3333 : 0,
            maxPoints: 38, pounds: optionals ? 1_234.5 : nil, changeSincePreviousRun: optionals ? -0.25 : nil,
            changeSinceLastYear: optionals ? 1e-5 : nil, verified: !optionals)
        return ReportData(
            practice: "A81001", practiceName: "The Surgery", pcn: optionals ? "U12345" : nil, ruleset: "qof-2025-26",
            rulesetTitle: "QOF 2025/26", achievementDate: "2026-03-31", runID: 42, listSize: 9_876, pointsAchieved: 25.3333,
            pointsAvailable: 564, pounds: 1_234.5, poundsAvailable: 130_000.75, state: "in review",
            lastYearPounds: optionals ? 120_000 : nil, aspiration: optionals ? 84_000 : nil, balance: optionals ? -82_765.5 : nil,
            snapshotSHA256: optionals ? String(repeating: "ab", count: 32) : nil, indicators: [indicator, indicator],
            subjects: subjects ? ["HYP008": ["numerator": ["P1", "P\"2"], "pca": []]] : nil)
    }

    @Test("reads back into the same report, and has the shape Foundation's encoder gives", arguments: [(false, false), (true, true), (false, true)])
    func parity(subjects: Bool, optionals: Bool) throws {
        let report = Self.data(subjects: subjects, optionals: optionals)
        let ours = ReportRenderer.json(report)
        let decoded = try JSONDecoder().decode(ReportData.self, from: ours)
        let foundation = JSONEncoder()
        foundation.outputFormatting = [.sortedKeys]
        #expect(try foundation.encode(decoded) == foundation.encode(report))
        let a = try JSONSerialization.jsonObject(with: ours) as! NSDictionary
        let b = try JSONSerialization.jsonObject(with: foundation.encode(report)) as! NSDictionary
        #expect(a == b)
        // Keys sorted, two-space indentation, whole numbers without a fraction.
        let text = String(decoding: ours, as: UTF8.self)
        #expect(text.hasPrefix("{\n  \"achievementDate\" : \"2026-03-31\",\n"))
        #expect(text.contains("\"maxPoints\" : 38,"))
    }
}
