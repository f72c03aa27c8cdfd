import Clinical
import RulesEngine
import Testing

/// Known answers for the indicators that differ in 2024/25 (facts §1.2–1.4): DM022/DM023 (statin only,
/// no other lipid-lowering route), AST011 (spirometry and another test, 3 months before to 6 after),
/// the shifted year for a carried-over indicator, and the protected indicators' empty chains.
@Suite("QOF 2024/25: DM022, DM023, AST011 and the year one earlier")
struct Qof2425IndicatorsTests {
    static func dm(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1960-01-01").with("DM_COD", on: "2010-01-01") }
    static func ast(_ id: String, diagnosed: String) -> PatientBuilder {
        PatientBuilder(id, born: "1990-01-01").with("AST_COD", on: diagnosed).issued("ASTTRT_COD", on: "2025-01-01")
    }

    static let cases: [(String, RuleCase)] = [
        known("DM022", "statin in the 6 months to March 2025: numerator", dm("a1").issued("STAT_COD", on: "2025-01-10"), .numerator),
        known("DM022", "statin declined, ezetimibe issued: no other route in 2024/25, STATDEC", dm("a2").with("STATINDEC_COD", on: "2024-10-01")
            .issued("LLT_COD", on: "2025-01-10"), .pca, "STATINDEC"),
        known("DM022", "with CHD: CVDHIST", dm("a3").with("CHD_COD", on: "2018-01-01"), .excluded, "CVDHIST"),
        known("DM023", "with CHD and a statin: numerator", dm("b1").with("CHD_COD", on: "2018-01-01").issued("STAT_COD", on: "2025-01-10"), .numerator),
        known("DM023", "with CHD, other therapy only: denominator", dm("b2").with("CHD_COD", on: "2018-01-01").issued("LLT_COD", on: "2025-01-10"), .denominator),
        known("AST011", "spirometry and FeNO within the window: numerator",
              ast("c1", diagnosed: "2024-05-01").with("ASTSPIR_COD", on: "2024-09-01").with("FENO_COD", on: "2024-04-01"), .numerator),
        known("AST011", "FeNO without spirometry: denominator", ast("c2", diagnosed: "2024-05-01").with("FENO_COD", on: "2024-06-01"), .denominator),
        known("AST011", "spirometry 7 months after: denominator",
              ast("c3", diagnosed: "2024-05-01").with("ASTSPIR_COD", on: "2024-12-05").with("FENO_COD", on: "2024-06-01"), .denominator),
        known("AST011", "diagnosed before April 2023: DIAG_DAT23", ast("c4", diagnosed: "2020-01-01"), .excluded, "DIAG_DAT23"),
        known("AST011", "registered before the diagnosis, no tests: denominator", ast("c5", diagnosed: "2024-05-01").registered("2024-04-15"), .denominator),
        known("DEM004", "care plan reviewed in 2024/25: numerator",
              PatientBuilder("d1", born: "1940-01-01").with("DEM_COD", on: "2020-01-01").with("DEMCPRVW_COD", on: "2024-06-01"), .numerator),
        known("DEM004", "reviewed only in 2025/26 (after the achievement date): denominator",
              PatientBuilder("d2", born: "1940-01-01").with("DEM_COD", on: "2020-01-01").with("DEMCPRVW_COD", on: "2025-06-01"), .denominator),
        known("HYP001", "protected register indicator: no patient outcome kept",
              PatientBuilder("e1", born: "1950-01-01").with("HYP_COD", on: "2015-01-01"), .excluded),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c, ruleset: "qof-2024-25") }
}
