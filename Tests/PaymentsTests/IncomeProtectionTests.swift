import Clinical
import Clusters
import Foundation
import Payments
import RulesEngine
import Testing
import TestSupport

/// QOF 2024/25: 76 indicators, 32 of them income-protected at the practice's 2023/24 points (facts §1.3,
/// §3.5), register indicators all or nothing (§3.1).
@Suite("QOF 2024/25: income protection and register indicators")
struct IncomeProtectionTests {
    static let library: ClusterLibrary = try! ClusterLibrary.bundled()
    static let ruleset: Ruleset = try! RulesetLoader(library: library).loadAll()["qof-2024-25"]!

    @Test("the 2024/25 ruleset has 76 indicators and 635 points, 32 protected worth 212, 423 conditional")
    func shape() {
        #expect(Self.ruleset.indicators.count == 76)
        #expect(Self.ruleset.indicators.reduce(0) { $0 + $1.points } == 635)
        let protected = Self.ruleset.indicators.filter { $0.payment == .protected }
        #expect(protected.count == 32)
        #expect(protected.reduce(0) { $0 + $1.points } == 212)
        // The 19 register indicators (81 points) are among the protected ones.
        let registers = ["AF001", "AST005", "CAN001", "CHD001", "CKD005", "COPD015", "DEM001", "DM017", "EP001", "HF001", "HYP001",
                         "LD004", "MH001", "OB003", "OST004", "PAD001", "PC001", "RA001", "STIA001"]
        #expect(protected.filter { registers.contains($0.id) }.reduce(0) { $0 + $1.points } == 81)
        #expect(Set(Self.ruleset.indicators.map(\.id)).isSuperset(of: ["DM022", "DM023", "AST011", "CHOL003", "CHOL004"]))
        #expect(Self.ruleset.indicators.first { $0.id == "HYP008" }?.points == 14)
    }

    static func national(protection: String?) throws -> NationalFigures {
        let dir = TestFolders.make("ip")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let shipped = """
            year: qof-2024-25
            point_value: {pounds: 220.62}
            average_list_size: {patients: 9964}
            aspiration_percent: {percent: 80}
            prevalence:
              groups:
                HYP: {register: HYP_REG, percent: 14.8}
            unweighted_groups: [QI, PC, BP, VI, CS, SMOK004]
            """
        try Data(shipped.utf8).write(to: dir.appending(path: "qof-2024-25.yaml"))
        if let protection { try Data(protection.utf8).write(to: dir.appending(path: "qof-2024-25-income-protection.csv")) }
        return try NationalFigures.load(year: "qof-2024-25", directory: dir)
    }

    static func result(hypRegister: Int, listSize: Int = 9_964) -> PracticeResult {
        func row(_ id: String, _ register: String, _ size: Int, _ max: Double) -> IndicatorResult {
            IndicatorResult(id: id, register: register, registerSize: size, denominator: 0, numerator: 0, fields: [:], fieldKinds: [:],
                            achievement: nil, points: 0, maxPoints: max, ruleCounts: [])
        }
        return PracticeResult(
            ods: "A81001", pcn: nil, listSize: listSize,
            registers: [RegisterResult(id: "HYP_REG", size: hypRegister), RegisterResult(id: "LIST", size: listSize)],
            indicators: [row("HYP001", "HYP_REG", hypRegister, 6), row("QI013", "LIST", listSize, 27)], patients: nil)
    }

    @Test("protected indicators are paid at last year's points, with list size and prevalence still applied")
    func protectedPoints() throws {
        let national = try Self.national(protection: """
            QUALITY_SERVICE,ORG_CODE,ACH_DATE,IND_CODE,POINTS,APPROVED
            QOF2324,A81001,20240331,HYP001,6.00,Approved
            QOF2324,A81001,20240331,QI013,20.50,Approved
            QOF2324,B82002,20240331,QI013,27.00,Approved
            """)
        // HYP prevalence 14.8 % of 9,964 = 1,474.7: a register of 2,949 doubles the prevalence factor.
        let pay = PaymentCalculator.practice(Self.result(hypRegister: 2_949), ruleset: Self.ruleset, national: national)
        let hyp = try #require(pay.indicators.first { $0.id == "HYP001" })
        let qi = try #require(pay.indicators.first { $0.id == "QI013" })
        #expect(hyp.points == 6 && hyp.maxPoints == 6 && hyp.poundsAtStake == 0)
        #expect(abs(hyp.prevalenceFactor - 2.949 / 1.47467) < 0.001)
        #expect(abs(hyp.pounds - 6 * 220.62 * hyp.prevalenceFactor) < 0.01)
        #expect(qi.points == 20.5 && qi.prevalenceFactor == 1)   // QI is unweighted
        #expect(abs(qi.pounds - 20.5 * 220.62) < 0.01)
        #expect(!pay.unverifiedFigures.contains { $0.hasPrefix("income protection") })
        // An achieved-points file reports the points as paid.
        let asPaid = PaymentCalculator.asPaid(Self.result(hypRegister: 2_949), ruleset: Self.ruleset, national: national)
        #expect(asPaid.indicators.map(\.points) == [6, 20.5])
    }

    @Test("without last year's points a protected indicator earns nothing and the payment says why")
    func missingProtection() throws {
        let pay = PaymentCalculator.practice(Self.result(hypRegister: 1_500), ruleset: Self.ruleset, national: try Self.national(protection: nil))
        #expect(pay.indicators.first { $0.id == "HYP001" }?.points == 0)
        #expect(pay.unverifiedFigures.contains("income protection points not supplied for HYP001, QI013"))
    }

    @Test("a malformed protection file names the file and line")
    func malformed() {
        #expect(throws: PaymentError.self) { try IncomeProtection.read("ORG_CODE,IND_CODE,POINTS\nA81001,HYP001,lots\n", file: "p.csv") }
        do { _ = try IncomeProtection.read("ORG_CODE,IND_CODE,POINTS\nA81001,HYP001,lots\n", file: "p.csv") } catch {
            #expect("\(error)" == "p.csv line 2: POINTS must be a number of points")
        }
    }

    @Test("a register indicator is all or nothing")
    func registerIndicator() throws {
        var rs = Self.ruleset
        let i = try #require(rs.indicators.firstIndex { $0.id == "HYP001" })
        rs.indicators[i].payment = .register
        #expect(indicatorPoints(rs.indicators[i], achievement: 100, registerSize: 1) == 6)
        #expect(indicatorPoints(rs.indicators[i], achievement: nil, registerSize: 0) == 0)
        #expect(indicatorPoints(rs.indicators[i], achievement: 40, registerSize: 10) == 6)
    }
}
