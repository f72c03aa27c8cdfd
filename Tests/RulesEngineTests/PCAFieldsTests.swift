import Clinical
import RulesEngine
import Testing

/// Known answers for every Reject field of the target and process indicators whose first tests
/// covered only their Selects and age splits (CHD015/016, STIA014/015, DM036, NDH002, CHOL004), and for
/// MH003, MH006, MH011, MH012 and COPD010 — written from the rule pattern of facts §2.3–2.4 with the
/// imported codes for the PCA and invitation clusters.
@Suite("QOF 2025/26: every PCA and exclusion field of the BP, NDH, cholesterol, mental health and COPD indicators")
struct PCAFieldsTests {
    static let inYear = "2025-10-01"
    static func chd(_ id: String, born: String = "1950-01-01") -> PatientBuilder { PatientBuilder(id, born: born).with("CHD_COD", on: "2015-01-01") }
    static func tia(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1950-01-01").with("TIA_COD", on: "2015-01-01") }
    static func dm(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1956-01-01").with("DM_COD", on: "2010-01-01") }
    static func ndh(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1960-01-01").with("NDH_COD", on: "2020-01-01") }
    static func mh(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1980-01-01").with("MH_COD", on: "2015-01-01") }
    static func copd(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1955-01-01").with("COPD_COD", on: "2015-01-01") }
    /// A reading above target in the year, then two invitations at least 7 days apart after it.
    static func invitedAfterHighReading(_ p: PatientBuilder, _ cluster: String) -> PatientBuilder {
        p.bp(160, 95, on: "2025-05-01").with(cluster, on: "2025-06-01").with(cluster, on: "2025-06-10")
    }
    static func invitedTwice(_ p: PatientBuilder, _ cluster: String) -> PatientBuilder { p.with(cluster, on: "2025-06-01").with(cluster, on: "2025-06-10") }

    static let bpCases: [(String, RuleCase)] = [
        known("CHD015", "maximal BP therapy: HTMAX", chd("a1").with("HTMAX_COD", on: inYear), .pca, "HTMAX"),
        known("CHD015", "unsuitable: CHDPCAPU", chd("a2").with("CHDPCAPU_COD", on: inYear), .pca, "CHDPCAPU"),
        known("CHD015", "BP declined: BPORHBPDEC", chd("a3").with("BPDEC_COD", on: inYear), .pca, "BPORHBPDEC"),
        known("CHD015", "declined: CHDPCADEC", chd("a4").with("CHDPCADEC_COD", on: inYear), .pca, "CHDPCADEC"),
        known("CHD015", "invited twice after a high reading: CHDBPINV", invitedAfterHighReading(chd("a5"), "CHDINVITE_COD"), .pca, "CHDBPINV"),
        known("CHD015", "diagnosed in the last 9 months: DIAG1_DT9M", PatientBuilder("a6", born: "1950-01-01").with("CHD_COD", on: "2025-08-01"), .pca, "DIAG1_DT9M"),
        known("CHD015", "registered in the last 9 months: REG1_DAT9", chd("a7").registered("2025-08-01"), .pca, "REG1_DAT9"),
        known("CHD016", "aged 79: PAT_AGEU80", chd("a8").bp(120, 70, on: inYear), .excluded, "PAT_AGEU80"),
        known("STIA014", "maximal BP therapy: HTMAX", tia("b1").with("HTMAX_COD", on: inYear), .pca, "HTMAX"),
        known("STIA014", "unsuitable: STIAPCAPU", tia("b2").with("STIAPCAPU_COD", on: inYear), .pca, "STIAPCAPU"),
        known("STIA014", "declined: STIAPCADEC", tia("b3").with("STIAPCADEC_COD", on: inYear), .pca, "STIAPCADEC"),
        known("STIA014", "invited twice after a high reading: STBPINVITE", invitedAfterHighReading(tia("b4"), "STIAINVITE_COD"), .pca, "STBPINVITE"),
        known("STIA014", "aged 80: PAT_AGEO79", PatientBuilder("b5", born: "1945-06-01").with("TIA_COD", on: "2015-01-01"), .excluded, "PAT_AGEO79"),
        known("STIA015", "aged 80, BP 151/80: denominator",
              PatientBuilder("b6", born: "1945-06-01").with("TIA_COD", on: "2015-01-01").bp(151, 80, on: inYear), .denominator),
        known("DM036", "aged 80: PAT_AGEO79", PatientBuilder("c1", born: "1945-06-01").with("DM_COD", on: "2010-01-01"), .excluded, "PAT_AGEO79"),
        known("DM036", "maximal BP therapy: HTMAX", dm("c2").with("HTMAX_COD", on: inYear), .pca, "HTMAX"),
        known("DM036", "unsuitable: DMPCAPU", dm("c3").with("DMPCAPU_COD", on: inYear), .pca, "DMPCAPU"),
        known("DM036", "BP declined: BPORHBPDEC", dm("c4").with("BPDEC_COD", on: inYear), .pca, "BPORHBPDEC"),
        known("DM036", "declined: DMPCADEC", dm("c5").with("DMPCADEC_COD", on: inYear), .pca, "DMPCADEC"),
        known("DM036", "invited twice after a high reading: DMBPINVITE", invitedAfterHighReading(dm("c6"), "DMINVITE_COD"), .pca, "DMBPINVITE"),
        known("DM036", "diagnosed in the last 9 months: DIAG1_DT9M", PatientBuilder("c7", born: "1956-01-01").with("DM_COD", on: "2025-08-01"), .pca, "DIAG1_DT9M"),
        known("DM036", "registered in the last 9 months: REG1_DAT9", dm("c8").registered("2025-08-01"), .pca, "REG1_DAT9"),
        known("DM036", "BP 141/80: denominator", dm("c9").bp(141, 80, on: inYear), .denominator),
    ]

    static let processCases: [(String, RuleCase)] = [
        known("NDH002", "fasting glucose in the year: numerator", ndh("d1").with("FBS_COD", on: inYear, 6.5), .numerator),
        known("NDH002", "nothing in the year: denominator", ndh("d2").with("IFCCHBAM_COD", on: "2025-02-01", 44), .denominator),
        known("NDH002", "unsuitable: NDHPU", ndh("d3").with("NDHPU_COD", on: inYear), .pca, "NDHPU"),
        known("NDH002", "invited twice: NDHINVITE", invitedTwice(ndh("d4"), "NDHINVITE_COD"), .pca, "NDHINVITE"),
        known("NDH002", "first NDH code in the last 3 months: DIAG1_DAT", PatientBuilder("d5", born: "1960-01-01").with("NDH_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("NDH002", "registered in the last 3 months: REG1_DAT3", ndh("d6").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("CHOL004", "no LDL, non-HDL 2.6: numerator", chd("e1").with("NONHDLCCHOL_COD", on: inYear, 2.6), .numerator),
        known("CHOL004", "LDL 2.1 wins over a non-HDL 2.0: denominator", chd("e2").with("LDLCCHOL_COD", on: inYear, 2.1).with("NONHDLCCHOL_COD", on: inYear, 2.0), .denominator),
        known("CHOL004", "maximal therapy: CHOLMAX", chd("e3").with("CHOLMAX_COD", on: inYear), .pca, "CHOLMAX"),
        known("CHOL004", "unsuitable: CHOLPCAPU", chd("e4").with("CHOLPCAPU_COD", on: inYear), .pca, "CHOLPCAPU"),
        known("CHOL004", "declined: CHOLPCADEC", chd("e5").with("CHOLPCADEC_COD", on: inYear), .pca, "CHOLPCADEC"),
        known("CHOL004", "registered in the last 9 months: REG1_DAT9", chd("e6").registered("2025-08-01"), .pca, "REG1_DAT9"),
        known("MH003", "BP in the year: numerator", mh("f1").bp(120, 80, on: inYear), .numerator),
        known("MH003", "BP last year only: denominator", mh("f2").bp(120, 80, on: "2025-03-01"), .denominator),
        known("MH003", "unsuitable: MHPCAPU", mh("f3").with("MHPCAPU_COD", on: inYear), .pca, "MHPCAPU"),
        known("MH003", "declined: MHPCADEC", mh("f4").with("MHPCADEC_COD", on: inYear), .pca, "MHPCADEC"),
        known("MH003", "invited twice: MHINVITE", invitedTwice(mh("f5"), "MHINVITE_COD"), .pca, "MHINVITE"),
        known("MH003", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("f6", born: "1980-01-01").with("MH_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("MH003", "registered in the last 3 months: REG1_DAT3", mh("f7").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("MH003", "in remission: MHREM_DAT (on the register, excluded from the indicator)", mh("f8").with("MHREM_COD", on: "2020-01-01"), .excluded, "MHREM_DAT"),
        known("MH006", "BMI in the year: numerator", mh("g1").with("BMIVAL_COD", on: inYear, 31.2), .numerator),
        known("MH006", "no BMI: denominator", mh("g2"), .denominator),
        known("MH011", "cholesterol in the year: numerator", mh("h1").with("CHOL2_COD", on: inYear, 5.1), .numerator),
        known("MH011", "no lipids: denominator", mh("h2"), .denominator),
        known("MH012", "HbA1c in the year: numerator", mh("i1").with("IFCCHBAM_COD", on: inYear, 40), .numerator),
        known("MH012", "no HbA1c: denominator", mh("i2"), .denominator),
        known("COPD010", "review with MRC grade and exacerbation count: numerator",
              copd("j1").with("COPDRVW_COD", on: inYear).with("MRC_COD", on: inYear).with("COPDEXACB_COD", on: inYear), .numerator),
        known("COPD010", "review without the MRC grade: denominator", copd("j1b").with("COPDRVW_COD", on: inYear).with("COPDEXACB_COD", on: inYear), .denominator),
        known("COPD010", "review without the exacerbation count: denominator", copd("j1c").with("COPDRVW_COD", on: inYear).with("MRC_COD", on: inYear), .denominator),
        known("COPD010", "review last year only: denominator", copd("j2").with("COPDRVW_COD", on: "2025-02-01"), .denominator),
        known("COPD010", "unsuitable: COPDPCAPU", copd("j3").with("COPDPCAPU_COD", on: inYear), .pca, "COPDPCAPU"),
        known("COPD010", "declined: COPDPCADEC", copd("j4").with("COPDPCADEC_COD", on: inYear), .pca, "COPDPCADEC"),
        known("COPD010", "invited twice: COPDINVITE", invitedTwice(copd("j5"), "COPDINVITE_COD"), .pca, "COPDINVITE"),
        known("COPD010", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("j6", born: "1955-01-01").with("COPD_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("COPD010", "registered in the last 3 months: REG1_DAT3", copd("j7").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("COPD010", "COPD resolved: not on the register", copd("j8").with("COPDRES_COD", on: "2020-01-01"), .notInRegister),
    ]

    @Test("blood pressure target indicators", arguments: bpCases)
    func bloodPressure(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }

    @Test("process and cholesterol indicators", arguments: processCases)
    func processes(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}
