import Clinical
import RulesEngine
import Testing

/// Known answers for DM006/012/014/034/035, AST007/012, DEM004, MH002/007, SMOK004 and CS005/006,
/// written from the indicator wording (facts §1.4) and the PCA pattern (facts §2.3): every Select and
/// every Reject field. Clusters missing from shared/codelists carry the test library's imported codes.
@Suite("QOF 2025/26: diabetes care, asthma, dementia, mental health, smoking support, cervical screening")
struct CareProcessIndicatorsTests {
    static let inYear = "2025-10-01"
    static let issued = "2026-01-10"
    static let haemorrhagicStroke: UInt64 = 1_078_001_000_000_105

    static func dm(_ id: String, born: String = "1960-01-01") -> PatientBuilder { PatientBuilder(id, born: born).with("DM_COD", on: "2010-01-01") }
    static func neph(_ id: String) -> PatientBuilder { dm(id).with("MAL_COD", on: "2020-01-01") }
    static func ast(_ id: String, born: String = "1990-01-01", diagnosed: String = "2015-01-01") -> PatientBuilder {
        PatientBuilder(id, born: born).with("AST_COD", on: diagnosed).issued("ASTTRT_COD", on: "2026-01-01")
    }
    static func review(_ p: PatientBuilder, on day: String = inYear, leaving: String? = nil) -> PatientBuilder {
        ["REV_COD", "WRITPASTP_COD", "ASTCONTASS_COD", "ASTEXACB_COD"].filter { $0 != leaving }.reduce(p) { $0.with($1, on: day) }
    }
    static func dem(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1940-01-01").with("DEM_COD", on: "2020-01-01") }
    static func mh(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1980-01-01").with("MH_COD", on: "2015-01-01") }
    static func smoker(_ id: String, born: String = "1980-01-01") -> PatientBuilder { PatientBuilder(id, born: born).with("LSMOK_COD", on: "2025-06-01") }
    static func woman(_ id: String, born: String) -> PatientBuilder { PatientBuilder(id, born: born) }
    static func invitedTwice(_ p: PatientBuilder, _ cluster: String) -> PatientBuilder { p.with(cluster, on: "2025-06-01").with(cluster, on: "2025-06-10") }

    static let cases: [(String, RuleCase)] = [
        known("DM006", "microalbuminuria with an ARB: numerator", neph("a1").issued("AII_COD", on: issued), .numerator),
        known("DM006", "proteinuria, nothing: denominator", dm("a2").with("PRT_COD", on: "2020-01-01"), .denominator),
        known("DM006", "no nephropathy: PRT_COD", dm("a3"), .excluded, "PRT_COD"),
        known("DM006", "ARB not tolerated, ACE inhibitor contraindicated: XACE", neph("a4").with("TXAII_COD", on: inYear).with("XACE_COD", on: "2018-01-01"), .pca, "XACE"),
        known("DM006", "ARB not tolerated 13 months ago only: still in the denominator", neph("a4b").with("TXAII_COD", on: "2025-02-15").with("XACE_COD", on: "2018-01-01"), .denominator),
        known("DM006", "ACE inhibitor and ARB declined: ACEDEC", neph("a5").with("ACEDEC_COD", on: inYear).with("AIIDEC_COD", on: inYear), .pca, "ACEDEC"),
        known("DM006", "ACE inhibitor declined, ARB contraindicated: XACEARBDEC", neph("a5b").with("ACEDEC_COD", on: inYear).with("XAII_COD", on: "2018-01-01"), .pca, "XACEARBDEC"),
        known("DM006", "maximal therapy: not a DM006 PCA in CQRS", neph("a6").with("DMMAX_COD", on: inYear), .denominator),
        known("DM006", "unsuitable: DMPCAPU", neph("a7").with("DMPCAPU_COD", on: inYear), .pca, "DMPCAPU"),
        known("DM006", "declined: DMPCADEC", neph("a8").with("DMPCADEC_COD", on: inYear), .pca, "DMPCADEC"),
        known("DM006", "invited twice: DMINVITE", invitedTwice(neph("a9"), "DMINVITE_COD"), .pca, "DMINVITE"),
        known("DM006", "microalbuminuria in the last 3 months: DIAG1_DAT", dm("a10").with("MAL_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("DM006", "registered in the last 3 months: REG1_DAT3", neph("a11").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("DM012", "foot risk classified in the year: numerator", dm("b1").with("FRC_COD", on: inYear), .numerator),
        known("DM012", "nothing: denominator", dm("b2"), .denominator),
        known("DM012", "one leg amputated, nothing: denominator", dm("b3").with("AMPL_COD", on: "2019-01-01"), .denominator),
        known("DM012", "both legs amputated: AMPBILAT", dm("b4").with("AMPL_COD", on: "2019-01-01").with("AMPR_COD", on: "2020-01-01"), .excluded, "AMPR3_DAT"),
        known("DM012", "foot examination declined: FEDEC", dm("b5").with("FEDEC_COD", on: inYear), .pca, "FEDEC"),
        known("DM012", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("b6", born: "1960-01-01").with("DM_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),

        known("DM014", "diagnosed in June, referred in September: numerator",
              PatientBuilder("c1", born: "1960-01-01").with("DM_COD", on: "2025-06-01").with("DSEP_COD", on: "2025-09-01"), .numerator),
        known("DM014", "referred after 9 months: denominator",
              PatientBuilder("c2", born: "1960-01-01").with("DM_COD", on: "2025-05-01").with("DSEP_COD", on: "2026-03-20"), .denominator),
        known("DM014", "diagnosed before April 2013: DIAG_DAT13", dm("c3").with("DSEP_COD", on: "2010-02-01"), .excluded, "DIAG_DAT13"),
        known("DM014", "education declined: DSEPPCA",
              PatientBuilder("c4", born: "1960-01-01").with("DM_COD", on: "2025-06-01").with("DSEPDEC_COD", on: "2025-07-01"), .pca, "DSEPDEC"),
        known("DM014", "registered after the diagnosis: no such PCA in CQRS's DM014 list",
              PatientBuilder("c5", born: "1960-01-01").registered("2025-08-01").with("DM_COD", on: "2025-06-01"), .denominator),

        known("DM034", "aged 66 with a statin: numerator", dm("d1").issued("STAT_COD", on: issued), .numerator),
        known("DM034", "no statin: denominator", dm("d2"), .denominator),
        known("DM034", "aged 35: PAT_AGEU40", dm("d3", born: "1990-06-01"), .excluded, "PAT_AGEU39"),
        known("DM034", "with CHD: CVDHIST", dm("d4").with("CHD_COD", on: "2018-01-01"), .excluded, "CVDHIST"),
        known("DM034", "severe frailty: MDSEVFRAIL", dm("d5").with("SEVFRAIL_COD", on: "2025-01-01"), .excluded, "MDSEVFRAIL"),
        known("DM034", "type 2 with QRISK 8%: DMTYPE2", dm("d6").with("DMTYPE2_COD", on: "2010-01-01").with("QRISKSCORE_COD", on: "2024-06-01", 8), .excluded, "DMTYPE2"),
        known("DM034", "type 2 with QRISK 12%, no statin: denominator", dm("d7").with("DMTYPE2_COD", on: "2010-01-01").with("QRISKSCORE_COD", on: "2024-06-01", 12), .denominator),
        known("DM034", "statin contraindicated, other therapy: numerator", dm("d8").with("XSTAT_COD", on: "2019-01-01").issued("LLT_COD", on: issued), .numerator),
        known("DM034", "statin contraindicated, nothing else: XSTAT", dm("d9").with("XSTAT_COD", on: "2019-01-01"), .pca, "XSTAT"),
        known("DM034", "maximal therapy: CHOLMAX", dm("d10").with("CHOLMAX_COD", on: inYear), .pca, "CHOLMAX"),

        known("DM035", "with CHD and a statin: numerator", dm("e1").with("CHD_COD", on: "2018-01-01").issued("STAT_COD", on: issued), .numerator),
        known("DM035", "with PAD, no statin: denominator", dm("e2").with("PAD_COD", on: "2018-01-01"), .denominator),
        known("DM035", "no cardiovascular disease: CVDNOHIST", dm("e3").issued("STAT_COD", on: issued), .excluded, "CVDNOHIST"),
        known("DM035", "haemorrhagic stroke only: HSTRK", dm("e4").concept(haemorrhagicStroke, on: "2019-01-01").with("HSTRK_COD", on: "2019-01-01"), .excluded, "HSTRK"),
        known("DM035", "statin declined: STATINDEC", dm("e5").with("CHD_COD", on: "2018-01-01").with("STATINDEC_COD", on: inYear), .pca, "STATINDEC"),

        known("AST007", "review with plan, control and exacerbations on one day: numerator", review(ast("f1")), .numerator),
        known("AST007", "review without the control assessment: denominator", review(ast("f2"), leaving: "ASTCONTASS_COD"), .denominator),
        known("AST007", "plan written the day after the review: denominator",
              review(ast("f3"), leaving: "WRITPASTP_COD").with("WRITPASTP_COD", on: "2025-10-02"), .denominator),
        known("AST007", "unsuitable: ASTPCAPU", ast("f4").with("ASTPCAPU_COD", on: inYear), .pca, "ASTPCAPU"),
        known("AST007", "declined: ASTPCADEC", ast("f5").with("ASTPCADEC_COD", on: inYear), .pca, "ASTPCADEC"),
        known("AST007", "invited twice: ASTINVITE1", invitedTwice(ast("f6"), "ASTINVITE_COD"), .pca, "ASTINVITE1"),
        known("AST007", "diagnosed in the last 3 months: DIAG1_DAT", ast("f7", diagnosed: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("AST007", "registered in the last 3 months: REG1_DAT3", ast("f8").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("AST012", "adult diagnosed June 2025, FeNO a month later: numerator", ast("g1", diagnosed: "2025-06-01").with("FENO_COD", on: "2025-07-01"), .numerator),
        known("AST012", "no test: denominator", ast("g2", diagnosed: "2025-06-01"), .denominator),
        known("AST012", "FeNO 4 months before the diagnosis: denominator", ast("g3", diagnosed: "2025-06-01").with("FENO_COD", on: "2025-01-20"), .denominator),
        known("AST012", "skin prick counts for a child: numerator", ast("g4", born: "2015-01-01", diagnosed: "2025-06-01").with("SKINPRICK_COD", on: "2025-06-15"), .numerator),
        known("AST012", "skin prick does not count for an adult: denominator", ast("g5", diagnosed: "2025-06-01").with("SKINPRICK_COD", on: "2025-06-15"), .denominator),
        known("AST012", "diagnosed before April 2025: DIAG_DAT25", ast("g6").with("FENO_COD", on: "2015-01-10"), .excluded, "DIAG_DAT25"),
        known("AST012", "unsuitable: ASTPCAPU", ast("g7", diagnosed: "2025-06-01").with("ASTPCAPU_COD", on: inYear), .pca, "ASTPCAPU"),
        known("AST012", "diagnosed in the last 3 months, no test yet: DIAG1_DAT", ast("g8", diagnosed: "2026-02-01"), .pca, "DIAG1_DAT"),

        known("DEM004", "care plan reviewed in the year: numerator", dem("h1").with("DEMCPRVW_COD", on: inYear), .numerator),
        known("DEM004", "nothing: denominator", dem("h2"), .denominator),
        known("DEM004", "unsuitable: DEMPCAPU", dem("h3").with("DEMPCAPU_COD", on: inYear), .pca, "DEMPCAPU"),
        known("DEM004", "declined: DEMPCADEC", dem("h4").with("DEMPCADEC_COD", on: inYear), .pca, "DEMPCADEC"),
        known("DEM004", "invited twice: DEMINVITE", invitedTwice(dem("h5"), "DEMINVITE_COD"), .pca, "DEMINVITE"),
        known("DEM004", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("h6", born: "1940-01-01").with("DEM_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("DEM004", "registered in the last 3 months: REG1_DAT3", dem("h7").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("MH002", "care plan in the year: numerator", mh("i1").with("MHP_COD", on: inYear), .numerator),
        known("MH002", "nothing: denominator", mh("i2"), .denominator),
        known("MH002", "unsuitable: MHPCAPU", mh("i3").with("MHPCAPU_COD", on: inYear), .pca, "MHPCAPU"),
        known("MH002", "declined: MHPCADEC", mh("i4").with("MHPCADEC_COD", on: inYear), .pca, "MHPCADEC"),
        known("MH002", "invited twice: MHINVITE", invitedTwice(mh("i5"), "MHINVITE_COD"), .pca, "MHINVITE"),
        known("MH002", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("i6", born: "1980-01-01").with("MH_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("MH002", "registered in the last 3 months: REG1_DAT3", mh("i7").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("MH007", "alcohol consumption in the year: numerator", mh("j1").with("ALC_COD", on: inYear), .numerator),
        known("MH007", "excess alcohol recorded in the year: numerator", mh("j2").with("EXCESSALC_COD", on: inYear), .numerator),
        known("MH007", "alcohol recorded last year only: denominator", mh("j3").with("ALC_COD", on: "2025-02-01"), .denominator),

        known("SMOK004", "support offered 18 months ago: numerator", smoker("k1").with("REFERSSSA_COD", on: "2024-10-01"), .numerator),
        known("SMOK004", "support offered 3 years ago: denominator", smoker("k2").with("REFERSSSA_COD", on: "2023-03-01"), .denominator),
        known("SMOK004", "latest status ex-smoker: CSMOK", smoker("k3").with("EXSMOK_COD", on: "2025-09-01"), .excluded, "CSMOK"),
        known("SMOK004", "aged 14: not on the register", smoker("k4", born: "2011-06-01"), .notInRegister),
        known("SMOK004", "unsuitable: SMOKPCAPU", smoker("k5").with("SMOKPCAPU_COD", on: inYear), .pca, "SMOKPCAPU"),
        known("SMOK004", "declined: SMOKPCADEC", smoker("k6").with("SMOKPCADEC_COD", on: inYear), .pca, "SMOKPCADEC"),
        known("SMOK004", "registered in the last 3 months: REG1_DAT3", smoker("k7").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("CS005", "aged 36, screened 2 years 10 months ago: numerator", woman("l1", born: "1990-01-01").with("SMEAR_COD", on: "2023-06-01"), .numerator),
        known("CS005", "screened 3 years 10 months ago: denominator", woman("l2", born: "1990-01-01").with("SMEAR_COD", on: "2022-06-01"), .denominator),
        known("CS005", "aged 56: P_AGE25_49", woman("l3", born: "1970-01-01"), .excluded, "P_AGE25_49"),
        known("CS005", "no cervix: NOCX", woman("l4", born: "1990-01-01").with("NOCX_COD", on: "2020-01-01"), .excluded, "NOCX"),
        known("CS005", "unsuitable: CSPU", woman("l5", born: "1990-01-01").with("CSPU_COD", on: inYear), .pca, "CSPU"),
        known("CS005", "declined: CSDEC", woman("l6", born: "1990-01-01").with("CSDEC_COD", on: inYear), .pca, "CSDEC"),
        known("CS005", "registered in the last 3 months: REG1_DAT3", woman("l7", born: "1990-01-01").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("CS005", "a man: not on the register", woman("l8", born: "1990-01-01").male(), .notInRegister),
        known("CS006", "aged 56, screened 4 years 10 months ago: numerator", woman("m1", born: "1970-01-01").with("SMEAR_COD", on: "2021-06-01"), .numerator),
        known("CS006", "screened 5 years 10 months ago: denominator", woman("m2", born: "1970-01-01").with("SMEAR_COD", on: "2020-06-01"), .denominator),
        known("CS006", "aged 40: P_AGE50_64", woman("m3", born: "1986-01-01"), .excluded, "P_AGE50_64"),
        known("CS006", "aged 66: not on the register", woman("m4", born: "1960-01-01"), .notInRegister),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}
