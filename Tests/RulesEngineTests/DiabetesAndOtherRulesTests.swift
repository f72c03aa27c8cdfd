import Clinical
import RulesEngine
import Testing

/// Known answers for DM_REG, DM020, DM021, AST_REG, BP002 and SMOK002 (facts §2.4b, §2.4c).
@Suite("QOF 2025/26 diabetes, asthma, blood pressure and smoking rules")
struct DiabetesAndOtherRulesTests {
    static func dm(_ id: String, born: String = "1966-01-01", registered: String = "2000-01-01") -> PatientBuilder {
        PatientBuilder(id, born: born, registered: registered).with("DM_COD", on: "2012-02-02")
    }

    static let dm020Cases: [RuleCase] = [
        RuleCase(name: "HbA1c exactly 58: numerator", patient: dm("a").with("IFCCHBAM_COD", on: "2025-10-01", 58), outcome: .numerator, field: nil),
        RuleCase(name: "HbA1c 59: denominator", patient: dm("b").with("IFCCHBAM_COD", on: "2025-10-01", 59), outcome: .denominator, field: nil),
        RuleCase(name: "moderate frailty: excluded MDSEVFRAIL",
             patient: dm("c").with("MODFRAIL_COD", on: "2024-01-01").with("IFCCHBAM_COD", on: "2025-10-01", 50), outcome: .excluded, field: "MDSEVFRAIL"),
        RuleCase(name: "severe then mild frailty: the latest (mild) counts, numerator",
             patient: dm("d").with("SEVFRAIL_COD", on: "2023-01-01").with("MILDFRAIL_COD", on: "2025-01-01").with("IFCCHBAM_COD", on: "2025-10-01", 50),
             outcome: .numerator, field: nil),
        RuleCase(name: "no HbA1c but fructosamine: PCA IFCCHBA", patient: dm("e").with("SERFRUC_COD", on: "2025-10-01", 300), outcome: .pca, field: "IFCCHBA"),
        RuleCase(name: "maximal treatment: PCA DMMAX", patient: dm("f").with("DMMAX_COD", on: "2025-10-01"), outcome: .pca, field: "DMMAX"),
        RuleCase(name: "care unsuitable: PCA DMPCAPU", patient: dm("g").with("DMPCAPU_COD", on: "2025-10-01"), outcome: .pca, field: "DMPCAPU"),
        RuleCase(name: "blood test declined: PCA BLDTESTDEC", patient: dm("h").with("BLDTESTDEC_COD", on: "2025-10-01"), outcome: .pca, field: "BLDTESTDEC"),
        RuleCase(name: "chose not to receive care: PCA DMPCADEC", patient: dm("i").with("DMPCADEC_COD", on: "2025-10-01"), outcome: .pca, field: "DMPCADEC"),
        RuleCase(name: "no HbA1c, invited twice 7 days apart: PCA DMIFINVITE",
             patient: dm("j").with("DMINVITE_COD", on: "2025-09-01").with("DMINVITE_COD", on: "2025-09-08"), outcome: .pca, field: "DMIFINVITE"),
        RuleCase(name: "no HbA1c, invited twice 6 days apart: denominator",
             patient: dm("k").with("DMINVITE_COD", on: "2025-09-01").with("DMINVITE_COD", on: "2025-09-07"), outcome: .denominator, field: nil),
        RuleCase(name: "diagnosed in the last 9 months: PCA DIAG1_DT9M",
             patient: PatientBuilder("l", born: "1966-01-01").with("DM_COD", on: "2025-12-01"), outcome: .pca, field: "DIAG1_DT9M"),
        RuleCase(name: "registered in the last 9 months: PCA REG1_DAT9", patient: dm("m", registered: "2025-12-01"), outcome: .pca, field: "REG1_DAT9"),
        RuleCase(name: "aged 16: not on the register", patient: dm("n", born: "2009-04-01").with("IFCCHBAM_COD", on: "2025-10-01", 50),
             outcome: .notInRegister, field: nil),
        RuleCase(name: "aged 17 on PPED: on the register", patient: dm("o", born: "2009-03-31").with("IFCCHBAM_COD", on: "2025-10-01", 50),
             outcome: .numerator, field: nil),
        RuleCase(name: "resolved after the latest diagnosis: not on the register",
             patient: dm("p").with("DMRES_COD", on: "2020-01-01"), outcome: .notInRegister, field: nil),
        RuleCase(name: "HbA1c in the previous year only: denominator", patient: dm("q").with("IFCCHBAM_COD", on: "2025-03-31", 50),
             outcome: .denominator, field: nil),
    ]

    @Test("DM020 known answers", arguments: dm020Cases)
    func dm020(_ c: RuleCase) throws {
        let (outcome, field) = try #require(try Fixtures.outcomes([c.patient], indicator: "DM020")[c.patient.id])
        #expect(outcome == c.outcome && field == c.field)
    }

    static let dm021Cases: [RuleCase] = [
        RuleCase(name: "moderate frailty, HbA1c exactly 75: numerator",
             patient: dm("a").with("MODFRAIL_COD", on: "2024-01-01").with("IFCCHBAM_COD", on: "2025-10-01", 75), outcome: .numerator, field: nil),
        RuleCase(name: "severe frailty, HbA1c 76: denominator",
             patient: dm("b").with("SEVFRAIL_COD", on: "2024-01-01").with("IFCCHBAM_COD", on: "2025-10-01", 76), outcome: .denominator, field: nil),
        RuleCase(name: "no moderate or severe frailty: excluded MDSEVFRAIL",
             patient: dm("c").with("IFCCHBAM_COD", on: "2025-10-01", 50), outcome: .excluded, field: "MDSEVFRAIL"),
    ]

    @Test("DM021 known answers", arguments: dm021Cases)
    func dm021(_ c: RuleCase) throws {
        let (outcome, field) = try #require(try Fixtures.outcomes([c.patient], indicator: "DM021")[c.patient.id])
        #expect(outcome == c.outcome && field == c.field)
    }

    static let bp002Cases: [RuleCase] = [
        RuleCase(name: "aged 44: excluded PAT_AGEU45", patient: PatientBuilder("a", born: "1981-04-01").bp(120, 80, on: "2025-01-01"),
             outcome: .excluded, field: "PAT_AGEU45"),
        RuleCase(name: "aged 45, BP 4 years ago: numerator", patient: PatientBuilder("b", born: "1981-03-31").bp(120, 80, on: "2022-04-01"),
             outcome: .numerator, field: nil),
        RuleCase(name: "BP on the first day of the 5-year window (2021-04-01): numerator",
             patient: PatientBuilder("c", born: "1960-01-01").bp(120, 80, on: "2021-04-01"), outcome: .numerator, field: nil),
        RuleCase(name: "BP the day before the window: denominator",
             patient: PatientBuilder("d", born: "1960-01-01").bp(120, 80, on: "2021-03-31"), outcome: .denominator, field: nil),
        RuleCase(name: "BP declined in 5 years: PCA BPDEC1",
             patient: PatientBuilder("e", born: "1960-01-01").with("BPDEC_COD", on: "2023-01-01"), outcome: .pca, field: "BPDEC1"),
        RuleCase(name: "registered in the last 3 months: PCA REG1_DAT3",
             patient: PatientBuilder("f", born: "1960-01-01", registered: "2026-01-01"), outcome: .pca, field: "REG1_DAT3"),
        RuleCase(name: "registered exactly 3 months before PPED (2025-12-31): denominator",
             patient: PatientBuilder("g", born: "1960-01-01", registered: "2025-12-31"), outcome: .denominator, field: nil),
    ]

    @Test("BP002 known answers", arguments: bp002Cases)
    func bp002(_ c: RuleCase) throws {
        let (outcome, field) = try #require(try Fixtures.outcomes([c.patient], indicator: "BP002")[c.patient.id])
        #expect(outcome == c.outcome && field == c.field)
    }

    @Test("asthma register: aged 6 or over, unresolved, treated in the last 12 months")
    func asthmaRegister() throws {
        let ast = { (id: String, born: String) in PatientBuilder(id, born: born).with("AST_COD", on: "2024-01-01") }
        let patients = [
            ast("six", "2020-03-31").issued("ASTTRT_COD", on: "2025-12-01"),
            ast("five", "2020-04-01").issued("ASTTRT_COD", on: "2025-12-01"),
            ast("untreated", "1990-01-01").issued("ASTTRT_COD", on: "2025-03-31"),
            ast("resolved", "1990-01-01").issued("ASTTRT_COD", on: "2025-12-01").with("ASTRES_COD", on: "2025-01-01"),
        ]
        let compiled = try CompiledRuleset(Fixtures.rulesets["qof-2025-26"]!, library: Fixtures.library)
        let ev = Engine(compiled)
        let pop = Fixtures.population(patients)
        let result = ev.evaluate(pop)
        #expect(result.registers.first { $0.id == "AST_REG" }?.size == 1)
        let explanation = ev.explain(pop, patient: 0, indicators: [])
        #expect(explanation.steps.contains { $0.chain.hasPrefix("AST_REG") && $0.action == "select" })
    }

    static let smok002Cases: [RuleCase] = [
        RuleCase(name: "hypertensive, smoking status in the year: numerator",
             patient: HypertensionRulesTests.hyp("a").with("LSMOK_COD", on: "2025-06-01"), outcome: .numerator, field: nil),
        RuleCase(name: "hypertensive, never smoked recorded at age 30: numerator",
             patient: HypertensionRulesTests.hyp("b", born: "1966-01-01").with("NSMOK_COD", on: "1996-06-01"), outcome: .numerator, field: nil),
        RuleCase(name: "hypertensive, never smoked recorded at age 20 and nothing since: denominator",
             patient: HypertensionRulesTests.hyp("c", born: "1966-01-01").with("NSMOK_COD", on: "1986-06-01"), outcome: .denominator, field: nil),
        RuleCase(name: "on no register: not in SMOK002", patient: PatientBuilder("d", born: "1966-01-01").with("LSMOK_COD", on: "2025-06-01"),
             outcome: .notInRegister, field: nil),
    ]

    @Test("SMOK002 known answers", arguments: smok002Cases)
    func smok002(_ c: RuleCase) throws {
        let (outcome, field) = try #require(try Fixtures.outcomes([c.patient], indicator: "SMOK002")[c.patient.id])
        #expect(outcome == c.outcome && field == c.field)
    }
}
