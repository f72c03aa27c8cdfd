import Clinical
import RulesEngine
import Testing

/// Known answers for the fields the CQRS field-list audit added or renamed (issue 18), each at its boundary:
/// written from CQRS's own definitions (shared/domain/cqrs-metadata/PCA_REFERENCE.csv), with imported codes for
/// the clusters not in shared/codelists.
@Suite("QOF rule audit: CQRS fields at their boundaries")
struct RuleAuditTests {
    static let inYear = "2025-10-01"
    static let lastYear = "2025-02-15"  // 13½ months before PPED: outside every 12-month window
    static func mh(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1980-01-01").with("MH_COD", on: "2015-01-01") }
    static func dm(_ id: String, diagnosed: String = "2010-01-01") -> PatientBuilder { PatientBuilder(id, born: "1960-01-01").with("DM_COD", on: diagnosed) }
    static func chd(_ id: String) -> PatientBuilder { PatientBuilder(id, born: "1950-01-01").with("CHD_COD", on: "2015-01-01") }
    static func woman(_ id: String, born: String) -> PatientBuilder { PatientBuilder(id, born: born) }
    static func twice(_ p: PatientBuilder, _ cluster: String, _ first: String = "2025-06-01", gap: Int = 9) -> PatientBuilder {
        p.with(cluster, on: first).with(cluster, on: Day(iso: first)!.adding(days: gap).description)
    }

    static let mentalHealth: [(String, RuleCase)] = [
        known("MH002", "remission after the latest diagnosis: MHREM_DAT", mh("m1").with("MHREM_COD", on: "2020-01-01"), .excluded, "MHREM_DAT"),
        known("MH002", "remission, then a new diagnosis: not excluded", mh("m2").with("MHREM_COD", on: "2018-01-01").with("MH_COD", on: "2020-01-01"), .denominator),
        known("MH003", "blood pressure declined in the year: BPDEC", mh("m3").with("BPDEC_COD", on: inYear), .pca, "BPDEC"),
        known("MH003", "blood pressure declined 13 months ago: denominator", mh("m4").with("BPDEC_COD", on: lastYear), .denominator),
        known("MH006", "BMI declined: BMIDEC", mh("m5").with("BMIDEC_COD", on: inYear), .pca, "BMIDEC"),
        known("MH006", "BMI unsuitable: BMIPU", mh("m6").with("BMIPU_COD", on: inYear), .pca, "BMIPU"),
        known("MH007", "alcohol screening declined: ALCDEC", mh("m7").with("ALCSCRNDEC_COD", on: inYear), .pca, "ALCDEC"),
        known("MH011", "cholesterol test declined: CHOLDEC", mh("m8").with("CHOLDEC_COD", on: inYear), .pca, "CHOLDEC"),
        known("CHOL004", "cholesterol test declined in the year: CHOLDEC", chd("c40").with("CHOLDEC_COD", on: inYear), .pca, "CHOLDEC"),
        known("CHOL004", "cholesterol test declined 13 months ago: denominator", chd("c41").with("CHOLDEC_COD", on: lastYear), .denominator),
        known("MH012", "diabetes diagnosed 13 months before PPED: DM_DAT4", mh("m9").with("DM_COD", on: lastYear), .excluded, "DM_DAT4"),
        known("MH012", "diabetes diagnosed 11 months before PPED: denominator", mh("m10").with("DM_COD", on: "2025-04-15"), .denominator),
        known("MH012", "fructosamine, no HbA1c: IFCCHBA", mh("m11").with("SERFRUC_COD", on: inYear), .pca, "IFCCHBA"),
        known("MH012", "blood glucose test declined: GLUCDEC", mh("m12").with("GLUCDEC_COD", on: inYear), .pca, "GLUCDEC"),
    ]

    static let smokingAndOthers: [(String, RuleCase)] = [
        known("SMOK002", "smoking status declined: SMOKSTDEC", chd("s1").with("SMOKSTATDEC_COD", on: inYear), .pca, "SMOKSTDEC"),
        known("SMOK002", "invited twice, 9 days apart: SMOKINVITE", twice(chd("s2"), "SMOKINVITE_COD"), .pca, "SMOKINVITE"),
        known("SMOK002", "invited twice, 6 days apart: denominator", twice(chd("s3"), "SMOKINVITE_COD", gap: 6), .denominator),
        known("SMOK002", "condition first diagnosed 2 months before PPED: DIAG1_DAT",
              PatientBuilder("s4", born: "1950-01-01").with("CHD_COD", on: "2026-02-01"), .pca, "DIAG1_DAT"),
        known("SMOK002", "condition first diagnosed 4 months before PPED: denominator",
              PatientBuilder("s5", born: "1950-01-01").with("CHD_COD", on: "2025-12-01"), .denominator),
        known("SMOK004", "current smoker invited twice: SMOKINVITE",
              twice(PatientBuilder("s6", born: "1980-01-01").with("LSMOK_COD", on: "2025-09-01"), "SMOKINVITE_COD"), .pca, "SMOKINVITE"),
        known("SMOK004", "current smoker, nothing else: denominator", PatientBuilder("s7", born: "1980-01-01").with("LSMOK_COD", on: "2025-09-01"), .denominator),
        known("SMOK004", "aged 14: not on the register", PatientBuilder("s8", born: "2011-06-01").with("LSMOK_COD", on: "2025-09-01"), .notInRegister),
        known("NDH002", "blood glucose test declined: GLUCDEC",
              PatientBuilder("n1", born: "1960-01-01").with("NDH_COD", on: "2020-01-01").with("GLUCDEC_COD", on: inYear), .pca, "GLUCDEC"),
        known("NDH002", "NDH care declined: NDHPCADEC",
              PatientBuilder("n2", born: "1960-01-01").with("NDH_COD", on: "2020-01-01").with("NDHPCADEC_COD", on: inYear), .pca, "NDHPCADEC"),
        known("AST007", "asthma monitoring declined: ASTMONDEC",
              PatientBuilder("a1", born: "1990-01-01").with("AST_COD", on: "2015-01-01").issued("ASTTRT_COD", on: "2025-09-01").with("ASTMONDEC_COD", on: inYear),
              .pca, "ASTMONDEC"),
        known("DEM004", "care plan declined: DEMCPDEC", PatientBuilder("d1", born: "1940-01-01").with("DEM_COD", on: "2020-01-01").with("DEMCPDEC_COD", on: inYear),
              .pca, "DEMCPDEC"),
        known("HF007", "medication review declined: MEDRVWDEC", PatientBuilder("h1", born: "1945-01-01").with("HF_COD", on: "2020-01-01").with("MEDRVWDEC_COD", on: inYear),
              .pca, "MEDRVWDEC"),
    ]

    static let screeningAndDiabetes: [(String, RuleCase)] = [
        known("CS005", "aged 25: denominator", woman("c1", born: "2000-06-01"), .denominator),
        known("CS005", "aged 50: P_AGE25_49", woman("c2", born: "1975-06-01"), .excluded, "P_AGE25_49"),
        known("CS005", "pregnant in the year: PREG_DAT", woman("c3", born: "1995-01-01").with("PREG_COD", on: inYear), .pca, "PREG_DAT"),
        known("CS005", "pregnant 13 months ago: denominator", woman("c4", born: "1995-01-01").with("PREG_COD", on: lastYear), .denominator),
        known("CS005", "three invitations: CSPCAINV",
              woman("c5", born: "1995-01-01").with("CSPCAINVITE_COD", on: "2025-05-01").with("CSPCAINVITE_COD", on: "2025-05-10").with("CSPCAINVITE_COD", on: "2025-05-20"),
              .pca, "CSPCAINV"),
        known("CS005", "two invitations: denominator",
              woman("c6", born: "1995-01-01").with("CSPCAINVITE_COD", on: "2025-05-01").with("CSPCAINVITE_COD", on: "2025-05-10"), .denominator),
        known("CS006", "aged 64: denominator", woman("c7", born: "1961-06-01"), .denominator),
        known("CS006", "aged 49: P_AGE50_64", woman("c8", born: "1976-06-01"), .excluded, "P_AGE50_64"),
        known("DM012", "foot examination unsuitable: FEPU", dm("f1").with("FEPU_COD", on: inYear), .pca, "FEPU"),
        known("DM012", "neuropathy testing declined: NPTDEC", dm("f2").with("NPTDEC_COD", on: inYear), .pca, "NPTDEC"),
        known("DM012", "neuropathy testing unsuitable: NPTPU", dm("f3").with("NPTPU_COD", on: inYear), .pca, "NPTPU"),
        known("DM012", "one foot amputated: denominator", dm("f4").with("AMPL_COD", on: "2019-01-01"), .denominator),
        // DM014 (PPED 2026-03-31): diagnoses in the 21 months to PPED; referral within 9 months and in the year.
        known("DM014", "diagnosed 22 months before PPED: DM_DAT2", dm("e1", diagnosed: "2024-05-15"), .excluded, "DM_DAT2"),
        known("DM014", "diagnosed 20 months before PPED, referred 15 months before PPED: DSEP_DAT (counted last year)",
              dm("e2", diagnosed: "2024-07-15").with("DSEP_COD", on: "2024-12-15"), .excluded, "DSEP_DAT"),
        known("DM014", "diagnosed 12 months before PPED, referred 5 months later: numerator",
              dm("e3", diagnosed: "2025-04-15").with("DSEP_COD", on: "2025-09-15"), .numerator),
        known("DM014", "diagnosed 12 months before PPED, referred 10 months later: denominator",
              dm("e4", diagnosed: "2025-04-15").with("DSEP_COD", on: "2026-02-20"), .denominator),
        known("DM014", "diagnosed 8 months before PPED, not yet referred: DM_DAT3", dm("e5", diagnosed: "2025-08-01"), .excluded, "DM_DAT3"),
        known("DM014", "diagnosed 8 months before PPED, referred: numerator", dm("e6", diagnosed: "2025-08-01").with("DSEP_COD", on: "2025-10-01"), .numerator),
        known("DM014", "declined within 279 days of the diagnosis: DSEPDEC",
              dm("e7", diagnosed: "2025-04-15").with("DSEPDEC_COD", on: "2025-12-01"), .pca, "DSEPDEC"),
        known("DM014", "declined 300 days after the diagnosis: denominator",
              dm("e8", diagnosed: "2025-04-15").with("DSEPDEC_COD", on: "2026-02-09"), .denominator),
    ]

    static let cardiovascular: [(String, RuleCase)] = {
        let lvsd = { (id: String) in PatientBuilder(id, born: "1945-01-01").with("HF_COD", on: "2020-01-01").with("HFLVSD_COD", on: "2020-01-01") }
        let af2 = { (id: String) in PatientBuilder(id, born: "1940-01-01").with("AFIB_COD", on: "2018-01-01").with("CHADVASC_COD", on: "2025-06-01", 3) }
        let tia = { (id: String) in PatientBuilder(id, born: "1950-01-01").with("TIA_COD", on: "2015-01-01") }
        return [
            known("HF006", "licensed beta-blocker not tolerated in the year: TXLBB", lvsd("h2").with("TXLBB_COD", on: inYear), .pca, "TXLBB"),
            known("HF006", "not tolerated 13 months ago: denominator", lvsd("h3").with("TXLBB_COD", on: lastYear), .denominator),
            known("HF006", "contraindicated years ago: XLBB", lvsd("h4").with("XLBB_COD", on: "2015-01-01"), .pca, "XLBB"),
            known("AF008", "mechanical valve, VKA issued: numerator", af2("v1").with("MECHVALVE_COD", on: "2010-01-01").issued("VKA_COD", on: "2026-01-10"), .numerator),
            known("AF008", "mechanical valve, DOAC issued: not the right drug", af2("v2").with("MECHVALVE_COD", on: "2010-01-01").issued("DOAC_COD", on: "2026-01-10"), .denominator),
            known("AF008", "mechanical valve, VKA contraindicated: VALVITKCON", af2("v3").with("MECHVALVE_COD", on: "2010-01-01").with("XVKA_COD", on: "2012-01-01"), .pca, "VALVITKCON"),
            known("AF008", "mechanical valve, VKA declined: VALVITKDEC", af2("v4").with("MECHVALVE_COD", on: "2010-01-01").with("VKADEC_COD", on: inYear), .pca, "VALVITKDEC"),
            known("AF008", "DOAC declined, VKA contraindicated: DOACDVITKC", af2("v5").with("DOACDEC_COD", on: inYear).with("XVKA_COD", on: "2012-01-01"), .pca, "DOACDVITKC"),
            known("AF008", "DOAC and VKA declined: DOACDVITKD", af2("v6").with("DOACDEC_COD", on: inYear).with("VKADEC_COD", on: inYear), .pca, "DOACDVITKD"),
            known("AF008", "VKA contraindicated, antiphospholipid syndrome: DOACXVITKC", af2("v7").with("XVKA_COD", on: "2012-01-01").with("APS_COD", on: "2014-01-01"), .pca, "DOACXVITKC"),
            known("AF008", "VKA declined, DOAC not indicated: DOACXVITKD", af2("v8").with("VKADEC_COD", on: inYear).with("DOACNI_COD", on: inYear), .pca, "DOACXVITKD"),
            known("AF008", "anticoagulant not tolerated: TXGORANTIC", af2("v9").with("TXORANTICOAG_COD", on: inYear), .pca, "TXGORANTIC"),
            known("AF008", "anticoagulant contraindicated: XGORANTICO", af2("v10").with("XORANTICOAG_COD", on: "2012-01-01"), .pca, "XGORANTICO"),
            known("CHD005", "clopidogrel contraindicated years ago: XCLO_CODC after XSAL", chd("x1").with("XCLO_COD", on: "2012-01-01"), .pca, "XSAL"),
            known("STIA007", "dipyridamole not tolerated in the year: XSALCONTRA", tia("t1").with("TXDIPY_COD", on: inYear), .pca, "XSALCONTRA"),
            known("HF008", "palliative care since diagnosis: PALCARDAT2",
                  PatientBuilder("p1", born: "1945-01-01").with("HF_COD", on: "2024-06-01").with("PALCARE_COD", on: "2024-08-01"), .pca, "PALCARDAT2"),
            known("HF008", "palliative care ended: not excluded",
                  PatientBuilder("p2", born: "1945-01-01").with("HF_COD", on: "2024-06-01").with("PALCARE_COD", on: "2024-08-01").with("PALCARENI_COD", on: "2025-01-01"),
                  .denominator),
        ]
    }()

    static let registersAndScores: [(String, RuleCase)] = {
        let af = { (id: String) in PatientBuilder(id, born: "1950-01-01").with("AFIB_COD", on: "2018-01-01") }
        let smi = { (id: String) in PatientBuilder(id, born: "1980-01-01").with("MH_COD", on: "2015-01-01") }
        return [
            known("AF006", "scored 3 two years ago, re-scored in the year: numerator",
                  af("r1").with("CHADVASC_COD", on: "2024-01-01", 3).with("CHADVASC_COD", on: inYear, 3), .numerator),
            known("AF006", "latest score 3, 13 months before PPED: CHAD_VAL2", af("r2").with("CHADVASC_COD", on: lastYear, 3), .excluded, "CHAD_VAL2"),
            known("AF006", "latest score 1, 13 months before PPED: denominator", af("r3").with("CHADVASC_COD", on: lastYear, 1), .denominator),
            known("DM034", "type 2 long ago, latest diagnosis type 1, QRISK 8%: not DMTYPE2",
                  PatientBuilder("r9", born: "1960-01-01").with("DMTYPE2_COD", on: "2010-01-01").with("DMTYPE1_COD", on: "2020-01-01")
                      .with("QRISKSCORE_COD", on: "2024-06-01", 8), .denominator),
            known("MH011", "no CVD risk factor, lipids 18 months ago: numerator", smi("r4").with("CHOL2_COD", on: "2024-10-01", 5), .numerator),
            known("MH011", "hypertension, lipids 18 months ago: denominator",
                  smi("r5").with("HYP_COD", on: "2018-01-01").with("CHOL2_COD", on: "2024-10-01", 5), .denominator),
            known("MH011", "no CVD risk factor, lipids 25 months ago: denominator", smi("r6").with("CHOL2_COD", on: "2024-02-15", 5), .denominator),
            known("CHOL003", "CKD stage 3 then stage 1-2: not on the register",
                  PatientBuilder("r7", born: "1950-01-01").with("CKD_COD", on: "2019-01-01").with("CKD1AND2_COD", on: "2022-01-01"), .notInRegister),
            known("CHOL003", "CKD stage 1-2 then stage 3: on the register",
                  PatientBuilder("r8", born: "1950-01-01").with("CKD1AND2_COD", on: "2019-01-01").with("CKD_COD", on: "2022-01-01"), .denominator),
        ]
    }()

    @Test("AF006's latest score, MH011's 24 months, the CKD register's downstaging", arguments: registersAndScores)
    func registersAndScoresFields(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }

    @Test("mental health: remission, declines and the DM_DAT4 exclusion", arguments: mentalHealth)
    func mentalHealthFields(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }

    @Test("smoking, NDH, asthma, dementia and heart failure review PCAs", arguments: smokingAndOthers)
    func processFields(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }

    @Test("cervical screening and diabetes (DM012, DM014)", arguments: screeningAndDiabetes)
    func screeningFields(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }

    @Test("heart failure, AF008, CHD005, STIA007, HF008", arguments: cardiovascular)
    func cardiovascularFields(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}
