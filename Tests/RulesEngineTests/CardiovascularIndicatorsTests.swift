import Clinical
import RulesEngine
import Testing

/// Known answers for AF006, AF008, CHD005, STIA007, CHOL003 and HF003/006/007/008, written from the
/// indicator wording (facts §1.4) and the PCA pattern (facts §2.3): every Select and every Reject field.
/// Clusters missing from shared/codelists carry the test library's imported codes.
@Suite("QOF 2025/26: AF, CHD005, STIA007, CHOL003, HF")
struct CardiovascularIndicatorsTests {
    static let inYear = "2025-10-01"
    static let issued = "2026-01-10"   // within the 6 months to PPED
    static let haemorrhagicStroke: UInt64 = 1_078_001_000_000_105   // in STRK_COD, not in OSTR_COD

    static func af(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1950-01-01").with("AFIB_COD", on: "2015-01-01") }
    static func af2(_ id: String) -> PatientBuilder { af(id).with("CHADVASC_COD", on: "2024-05-01", 3) }
    static func chd(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1950-01-01").with("CHD_COD", on: "2015-01-01") }
    static func tia(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1950-01-01").with("TIA_COD", on: "2019-01-01") }
    static func hf(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1945-01-01").with("HF_COD", on: "2015-01-01") }
    static func lvsd(_ id: String) -> PatientBuilder { hf(id).with("HFLVSD_COD", on: "2016-01-01") }
    static func invitedTwice(_ p: PatientBuilder, _ cluster: String) -> PatientBuilder {
        p.with(cluster, on: "2025-06-01").with(cluster, on: "2025-06-10")
    }

    static let cases: [(String, RuleCase)] = [
        known("AF006", "CHA2DS2-VASc in the year: numerator", af("a1").with("CHADVASC_COD", on: inYear, 1), .numerator),
        known("AF006", "previous CHA2DS2-VASc of 2: CHAD_VAL2", af("a2").with("CHADVASC_COD", on: "2023-01-01", 2), .excluded, "CHAD_VAL2"),
        known("AF006", "CHADS2 of 2 before April 2015 and no CHA2DS2-VASc: CHAD_VAL2", af("a3").with("CHAD_COD", on: "2014-01-01", 2), .excluded, "CHAD_VAL2"),
        known("AF006", "previous score 1, none in the year: denominator", af("a4").with("CHADVASC_COD", on: "2023-01-01", 1), .denominator),
        known("AF006", "unsuitable: AFIBPCAPU", af("a5").with("AFIBPCAPU_COD", on: inYear), .pca, "AFIBPCAPU"),
        known("AF006", "declined: AFIBPCADEC", af("a6").with("AFIBPCADEC_COD", on: inYear), .pca, "AFIBPCADEC"),
        known("AF006", "invited twice: AFIBINV1", invitedTwice(af("a7"), "AFIBINVITE_COD"), .pca, "AFIBINV1"),
        known("AF006", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("a8", born: "1950-01-01").with("AFIB_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("AF006", "registered in the last 3 months: REG1_DAT3", af("a9").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("AF006", "AF resolved: not on the register", af("a10").with("AFIBRES_COD", on: "2020-01-01"), .notInRegister),

        known("AF008", "DOAC issued in the last 6 months: numerator", af2("b1").issued("DOAC_COD", on: issued), .numerator),
        known("AF008", "no anticoagulant: denominator", af2("b2"), .denominator),
        known("AF008", "DOAC issued 8 months ago only: denominator", af2("b3").issued("DOAC_COD", on: "2025-08-01"), .denominator),
        known("AF008", "latest CHA2DS2-VASc 1: CHADVASC", af("b4").with("CHADVASC_COD", on: "2024-05-01", 1).issued("DOAC_COD", on: issued), .excluded, "CHADVASC"),
        known("AF008", "VKA with DOAC declined: numerator", af2("b5").issued("VKA_COD", on: issued).with("DOACDEC_COD", on: inYear), .numerator),
        known("AF008", "VKA without a reason to avoid a DOAC: denominator", af2("b6").issued("VKA_COD", on: issued), .denominator),
        known("AF008", "anticoagulant contraindicated: XGORANTICO", af2("b7").with("XORANTICOAG_COD", on: "2020-01-01"), .pca, "XGORANTICO"),
        known("AF008", "anticoagulant declined, none issued: GENORANTID", af2("b8").with("ORANTICOAGDEC_COD", on: inYear), .pca, "GENORANTID"),
        known("AF008", "registered in the last 3 months: REG1_DAT3", af2("b9").registered("2026-01-15"), .pca, "REG1_DAT3"),

        known("CHD005", "antiplatelet issued in the year: numerator", chd("c1").issued("ANTIPLT_COD", on: "2025-06-01"), .numerator),
        known("CHD005", "aspirin recorded in the year: numerator", chd("c2").with("OSAL_COD", on: "2025-06-01"), .numerator),
        known("CHD005", "anticoagulant issued: numerator", chd("c3").issued("DOAC_COD", on: issued), .numerator),
        known("CHD005", "nothing: denominator", chd("c4"), .denominator),
        known("CHD005", "aspirin contraindicated: XSAL", chd("c5").with("XSAL_COD", on: "2018-01-01"), .pca, "XSAL"),
        known("CHD005", "clopidogrel declined: SALDEC", chd("c6").with("CLODEC_COD", on: inYear), .pca, "SALDEC"),
        known("CHD005", "unsuitable: CHDPCAPU", chd("c7").with("CHDPCAPU_COD", on: inYear), .pca, "CHDPCAPU"),
        known("CHD005", "declined: CHDPCADEC", chd("c8").with("CHDPCADEC_COD", on: inYear), .pca, "CHDPCADEC"),
        known("CHD005", "invited twice: CHDINVITE", invitedTwice(chd("c9"), "CHDINVITE_COD"), .pca, "CHDINVITE"),
        known("CHD005", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("c10", born: "1950-01-01").with("CHD_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("CHD005", "registered in the last 3 months: REG1_DAT3", chd("c11").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("STIA007", "TIA with antiplatelet: numerator", tia("d1").issued("ANTIPLT_COD", on: "2025-06-01"), .numerator),
        known("STIA007", "occlusive stroke, nothing: denominator", PatientBuilder("d2", born: "1950-01-01").with("OSTR_COD", on: "2019-01-01"), .denominator),
        known("STIA007", "haemorrhagic stroke only: NONHAEM", PatientBuilder("d3", born: "1950-01-01").concept(haemorrhagicStroke, on: "2019-01-01"), .excluded, "OSTREXCL"),
        known("STIA007", "clopidogrel not tolerated: XSALCONTRA", tia("d4").with("TXCLO_COD", on: inYear), .pca, "XSALCONTRA"),
        known("STIA007", "aspirin declined only: still in the denominator", tia("d5").with("SALDEC_COD", on: inYear), .denominator),
        known("STIA007", "aspirin and dipyridamole declined: SALDIPDEC", tia("d6").with("SALDEC_COD", on: inYear).with("DIPYDEC_COD", on: inYear), .pca, "SALDIPDEC"),
        known("STIA007", "aspirin declined, dipyridamole contraindicated: XSALCONTRA (contraindications first)", tia("d7").with("SALDEC_COD", on: inYear).with("XDIPY_COD", on: "2019-01-01"), .pca, "XSALCONTRA"),
        known("STIA007", "unsuitable: STIAPCAPU", tia("d6").with("STIAPCAPU_COD", on: inYear), .pca, "STIAPCAPU"),
        known("STIA007", "declined: STIAPCADEC", tia("d7").with("STIAPCADEC_COD", on: inYear), .pca, "STIAPCADEC"),
        known("STIA007", "invited twice: STIAINVITE", invitedTwice(tia("d8"), "STIAINVITE_COD"), .pca, "STIAINVITE"),
        known("STIA007", "TIA in the last 3 months: DIAG1_DAT", PatientBuilder("d9", born: "1950-01-01").with("TIA_COD", on: "2026-01-20"), .pca, "DIAG1_DAT"),
        known("STIA007", "registered in the last 3 months: REG1_DAT3", tia("d10").registered("2026-02-01"), .pca, "REG1_DAT3"),

        known("CHOL003", "CKD with a statin in the last 6 months: numerator",
              PatientBuilder("e1", born: "1950-01-01").with("CKD_COD", on: "2015-01-01").issued("STAT_COD", on: issued), .numerator),
        known("CHOL003", "CHD, no statin: denominator", chd("e2"), .denominator),
        known("CHOL003", "statin 8 months ago only: denominator", chd("e3").issued("STAT_COD", on: "2025-08-01"), .denominator),
        known("CHOL003", "statin declined, ezetimibe issued: numerator", chd("e4").with("STATINDEC_COD", on: inYear).issued("LLT_COD", on: issued), .numerator),
        known("CHOL003", "other therapy without a statin reason: denominator", chd("e5").issued("LLT_COD", on: issued), .denominator),
        known("CHOL003", "statin declined, nothing else: STATINDEC", chd("e6").with("STATINDEC_COD", on: inYear), .pca, "STATINDEC"),
        known("CHOL003", "statin contraindicated: XSTAT", chd("e7").with("XSTAT_COD", on: "2021-01-01"), .pca, "XSTAT"),
        known("CHOL003", "statin not tolerated in the year: TXSTAT", chd("e7b").with("TXSTAT_COD", on: inYear), .pca, "TXSTAT"),
        known("CHOL003", "statin not tolerated two years ago only: denominator", chd("e7c").with("TXSTAT_COD", on: "2023-06-01"), .denominator),
        known("CHOL003", "haemorrhagic stroke only: HSTRK",
              PatientBuilder("e8", born: "1950-01-01").concept(haemorrhagicStroke, on: "2019-01-01").with("HSTRK_COD", on: "2019-01-01"), .excluded, "HSTRK"),
        known("CHOL003", "maximal therapy: CHOLMAX", chd("e9").with("CHOLMAX_COD", on: inYear), .pca, "CHOLMAX"),
        known("CHOL003", "unsuitable: CHOLPCAPU", chd("e10").with("CHOLPCAPU_COD", on: inYear), .pca, "CHOLPCAPU"),
        known("CHOL003", "declined: CHOLPCADEC", chd("e11").with("CHOLPCADEC_COD", on: inYear), .pca, "CHOLPCADEC"),
        known("CHOL003", "PAD diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("e12", born: "1950-01-01").with("PAD_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("CHOL003", "registered in the last 3 months: REG1_DAT3", chd("e13").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("CHOL003", "CKD aged 17: not on the register", PatientBuilder("e14", born: "2009-01-01").with("CKD_COD", on: "2024-01-01"), .notInRegister),

        known("HF003", "LVSD with an ACE inhibitor: numerator", lvsd("f1").issued("AII_COD", on: issued), .numerator),
        known("HF003", "reduced ejection fraction, nothing: denominator", hf("f2").with("REDEJCFRAC_COD", on: "2016-01-01"), .denominator),
        known("HF003", "heart failure without LVSD: not on the register", hf("f3").issued("AII_COD", on: issued), .notInRegister),
        known("HF003", "ACE inhibitor and ARB contraindicated: XACE", lvsd("f4").with("XACE_COD", on: "2019-01-01").with("TXAII_COD", on: inYear), .pca, "XACE"),
        known("HF003", "ACE inhibitor contraindicated only: still in the denominator", lvsd("f4b").with("XACE_COD", on: "2019-01-01"), .denominator),
        known("HF003", "ACE inhibitor and ARB declined: ACEDEC", lvsd("f5").with("AIIDEC_COD", on: inYear).with("ACEDEC_COD", on: inYear), .pca, "ACEDEC"),
        known("HF003", "ACE inhibitor contraindicated, ARB declined: XACEARBDEC", lvsd("f5b").with("XACE_COD", on: "2019-01-01").with("AIIDEC_COD", on: inYear), .pca, "XACEARBDEC"),
        known("HF003", "unsuitable: HFPCAPU", lvsd("f6").with("HFPCAPU_COD", on: inYear), .pca, "HFPCAPU"),
        known("HF003", "declined: HFPCADEC", lvsd("f7").with("HFPCADEC_COD", on: inYear), .pca, "HFPCADEC"),
        known("HF003", "invited twice: HFINVITE", invitedTwice(lvsd("f8"), "HFINVITE_COD"), .pca, "HFINVITE"),
        known("HF003", "LVSD in the last 3 months: DIAG1_DAT", hf("f9").with("HFLVSD_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("HF003", "registered in the last 3 months: REG1_DAT3", lvsd("f10").registered("2026-02-01"), .pca, "REG1_DAT3"),
        known("HF006", "licensed beta-blocker: numerator", lvsd("g1").issued("LBB_COD", on: issued), .numerator),
        known("HF006", "nothing: denominator", lvsd("g2"), .denominator),
        known("HF006", "beta-blocker contraindicated: XLBB", lvsd("g3").with("XLBB_COD", on: "2019-01-01"), .pca, "XLBB"),
        known("HF006", "beta-blocker declined: LBBDEC", lvsd("g4").with("LBBDEC_COD", on: inYear), .pca, "LBBDEC"),
        known("HF007", "review in the year: numerator", hf("h1").with("HFRVW_COD", on: inYear), .numerator),
        known("HF007", "review last year only: denominator", hf("h2").with("HFRVW_COD", on: "2025-03-01"), .denominator),
        known("HF007", "diagnosed in the last 3 months: DIAG1_DAT", PatientBuilder("h3", born: "1945-01-01").with("HF_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("HF007", "heart failure resolved: not on the register", hf("h4").with("HFRES_COD", on: "2020-01-01"), .notInRegister),
        known("HF008", "echo a month before the 2024 diagnosis: numerator",
              PatientBuilder("i1", born: "1945-01-01").with("HF_COD", on: "2024-06-01").with("ECOG_COD", on: "2024-05-01"), .numerator),
        known("HF008", "echo a year after the diagnosis: denominator",
              PatientBuilder("i2", born: "1945-01-01").with("HF_COD", on: "2024-06-01").with("ECOG_COD", on: "2025-06-01"), .denominator),
        known("HF008", "diagnosed before April 2023: DIAG_DAT23", hf("i3").with("ECOG_COD", on: "2015-01-05"), .excluded, "DIAG_DAT23"),
        known("HF008", "echo declined: not a PCA in CQRS's HF008 list",
              PatientBuilder("i4", born: "1945-01-01").with("HF_COD", on: "2024-06-01").with("ECDEC_COD", on: "2024-07-01"), .denominator),
        known("HF008", "registered in the last 6 months: REG6_ECOG",
              PatientBuilder("i5", born: "1945-01-01").registered("2025-11-01").with("HF_COD", on: "2024-06-01"), .pca, "REG6_ECOG"),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}
