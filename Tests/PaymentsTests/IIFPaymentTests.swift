import Clusters
import Foundation
import Payments
import RulesEngine
import Testing

/// The Network Contract DES IIF arithmetic on a made-up PCN, worked by hand here (facts §1.3): counts summed
/// over the member practices, points on the sliding scale, pounds = points × £ a point × list-size
/// adjustment × prevalence adjustment.
@Suite("IIF payment arithmetic for a PCN")
struct IIFPaymentTests {
    static let ruleset: Ruleset = try! RulesetLoader(library: try! ClusterLibrary.bundled()).loadAll()["des-2025-26"]!
    /// £198 a point, a national mean PCN list of 40,000, HI-03 prevalence 0.5 % and CAN-04 1 %.
    static let national = IIFNationalFigures(year: "des-2025-26", pointValue: 198, meanPCNListSize: 40_000, prevalence: ["HI-03": 0.5, "CAN-04": 1.0])

    static func member(_ ods: String, list: Int, hi03: (Int, Int), can04: (Int, Int), computable: Bool = true) -> PCNDESAchievement.Member {
        func r(_ id: String, _ register: String, _ c: (Int, Int)) -> IndicatorResult {
            IndicatorResult(id: id, register: register, registerSize: c.0 + 5, denominator: c.0, numerator: c.1, fields: ["X": 1], fieldKinds: [:],
                            achievement: nil, points: 0, maxPoints: 0, ruleCounts: [],
                            completeness: computable ? .complete : Completeness(status: .missing, computable: false, missing: ["HLTHCHK_COD"], standIns: [], direction: nil))
        }
        return .init(practice: ods, listSize: list, indicators: [r("HI-03", "LD_REG", hi03), r("CAN-04", "LGIREF_REG", can04)])
    }

    @Test("three practices: sums, not an average of percentages; 76 % of 60–80 % earns 28.8 of 36 points; pounds by hand")
    func madeUpPCN() throws {
        // Lists 10,000 + 15,000 + 25,000 = 50,000. HI-03: 30/40, 42/60, 80/100 = 152/200 = 76 % (the practices' own
        // 75 %, 70 % and 80 % average 75 %). CAN-04: 10/20, 15/30, 40/50 = 65/100 = 65 %, exactly the lower threshold.
        let pcn = PCNDESAchievement.compute(
            pcn: "U99999", members: [Self.member("A00001", list: 10_000, hi03: (40, 30), can04: (20, 10)),
                                     Self.member("A00002", list: 15_000, hi03: (60, 42), can04: (30, 15)),
                                     Self.member("A00003", list: 25_000, hi03: (100, 80), can04: (50, 40))],
            ruleset: Self.ruleset, figures: Self.national)
        #expect(pcn.listSize == 50_000)
        let hi03 = try #require(pcn.results.first { $0.id == "HI-03" })
        #expect(hi03.denominator == 200 && hi03.numerator == 152 && hi03.achievement == 76)
        // Points: 36 × (76 − 60) / (80 − 60) = 28.8.
        #expect(abs(hi03.points - 28.8) < 1e-9)
        // List-size adjustment 50,000 / 40,000 = 1.25; PCN prevalence 200 / 50,000 = 0.4 %, over 0.5 % = 0.8.
        #expect(abs(hi03.listSizeAdjustment! - 1.25) < 1e-12 && abs(hi03.prevalenceAdjustment! - 0.8) < 1e-12)
        // Pounds: 28.8 × £198 × 1.25 × 0.8 = £5,702.40.
        #expect(abs(hi03.pounds! - 5_702.40) < 0.005)
        let can04 = try #require(pcn.results.first { $0.id == "CAN-04" })
        #expect(can04.achievement == 65 && can04.points == 0 && can04.pounds == 0, "at the lower threshold nothing is earned")
        #expect(abs(pcn.pounds! - 5_702.40) < 0.005 && abs(pcn.points - 28.8) < 1e-9 && pcn.maxPoints == 58)
        #expect(pcn.contributions["HI-03"]?.map(\.practice) == ["A00001", "A00002", "A00003"])
        #expect(pcn.registerSizes["HI-03"] == 215 && pcn.fields["CAN-04"]?["X"] == 3)
        #expect(pcn.unverified.contains("HI-03 points and thresholds"), "the rules' own placeholders are flagged")
    }

    @Test("the sliding scale: nothing at or below the lower threshold, everything at or above the upper")
    func slidingScale() {
        #expect(IIFPayment.points(achievement: 65, max: 22, lower: 65, upper: 80) == 0)
        #expect(abs(IIFPayment.points(achievement: 65.01, max: 22, lower: 65, upper: 80) - 22 * 0.01 / 15) < 1e-12)
        #expect(IIFPayment.points(achievement: 80, max: 22, lower: 65, upper: 80) == 22)
        #expect(IIFPayment.points(achievement: 100, max: 22, lower: 65, upper: 80) == 22)
        #expect(IIFPayment.points(achievement: nil, max: 22, lower: 65, upper: 80) == 0)
    }

    @Test("a member whose figure cannot be computed makes the PCN's figure not computable: no points, no pounds, never a 0 % paid as earned")
    func notComputable() throws {
        let pcn = PCNDESAchievement.compute(
            pcn: "U99999", members: [Self.member("A00001", list: 10_000, hi03: (40, 0), can04: (20, 20), computable: false),
                                     Self.member("A00002", list: 15_000, hi03: (60, 60), can04: (30, 30))],
            ruleset: Self.ruleset, figures: Self.national)
        let hi03 = try #require(pcn.results.first { $0.id == "HI-03" })
        #expect(!hi03.computable && hi03.achievement == nil && hi03.points == 0 && hi03.pounds == nil)
    }

    @Test("the shipped national figures load, every one flagged unverified; a broken file names itself")
    func shippedFigures() throws {
        for year in ["des-2024-25", "des-2025-26"] {
            let f = try #require(try IIFNationalFigures.loadIfPresent(year: year))
            #expect(f.pointValue == 198 && f.prevalence["HI-03"] != nil)
            #expect(Set(f.unverified) == ["point_value", "mean_pcn_list_size", "prevalence"])
        }
        let dir = FileManager.default.temporaryDirectory.appending(path: "iif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("year: des-2025-26\npoint_value: {pounds: -1}\n".utf8).write(to: dir.appending(path: "des-2025-26-iif.yaml"))
        #expect(throws: PaymentError.self) { try IIFNationalFigures.loadIfPresent(year: "des-2025-26", directory: dir) }
        #expect(try IIFNationalFigures.loadIfPresent(year: "qof-2025-26") == nil, "QOF years have no IIF figures")
    }
}
