import Clinical
import RulesEngine
import Testing

/// Known answers for the further 2025/26 indicators: the CHD, stroke and diabetes BP targets, NDH002,
/// VI004 and CHOL004 (facts §1.4, §2.4, §4.1).
@Suite("QOF 2025/26: CHD015/016, STIA014/015, DM036, NDH002, VI004, CHOL004")
struct MoreIndicatorsTests {
    static func chd(_ id: String, _ born: String) -> PatientBuilder { PatientBuilder(id, born: born).with("CHD_COD", on: "2015-01-01") }

    static let cases: [(String, RuleCase)] = [
        ("CHD015", RuleCase(name: "CHD aged 79, BP 140/90: numerator", patient: chd("a", "1946-04-01").bp(140, 90, on: "2026-01-01"), outcome: .numerator, field: nil)),
        ("CHD015", RuleCase(name: "CHD aged 80: PAT_AGEO79", patient: chd("b", "1946-03-31").bp(120, 70, on: "2026-01-01"), outcome: .excluded, field: "PAT_AGEO79")),
        ("CHD016", RuleCase(name: "CHD aged 80, BP 150/90: numerator", patient: chd("c", "1946-03-31").bp(150, 90, on: "2026-01-01"), outcome: .numerator, field: nil)),
        ("CHD016", RuleCase(name: "CHD aged 80, BP 150/91: denominator", patient: chd("d", "1946-03-31").bp(150, 91, on: "2026-01-01"), outcome: .denominator, field: nil)),
        ("STIA014", RuleCase(name: "TIA aged 60, BP 141/80: denominator",
                             patient: PatientBuilder("e", born: "1966-01-01").with("TIA_COD", on: "2019-01-01").bp(141, 80, on: "2026-01-01"), outcome: .denominator, field: nil)),
        ("STIA015", RuleCase(name: "stroke aged 85, home BP 145/85: numerator",
                             patient: PatientBuilder("f", born: "1940-06-01").with("STRK_COD", on: "2019-01-01").bp(145, 85, on: "2026-01-01", cluster: "HOMEBP_COD"),
                             outcome: .numerator, field: nil)),
        ("DM036", RuleCase(name: "diabetes with moderate frailty: MDSEVFRAIL",
                           patient: PatientBuilder("g", born: "1950-01-01").with("DM_COD", on: "2010-01-01").with("MODFRAIL_COD", on: "2025-01-01").bp(120, 70, on: "2026-01-01"),
                           outcome: .excluded, field: "MDSEVFRAIL")),
        ("DM036", RuleCase(name: "diabetes aged 70, BP 138/88: numerator",
                           patient: PatientBuilder("h", born: "1956-01-01").with("DM_COD", on: "2010-01-01").bp(138, 88, on: "2026-01-01"), outcome: .numerator, field: nil)),
        ("NDH002", RuleCase(name: "NDH with HbA1c in the year: numerator",
                            patient: PatientBuilder("i", born: "1960-01-01").with("NDH_COD", on: "2020-01-01").with("IFCCHBAM_COD", on: "2025-09-01", 44), outcome: .numerator, field: nil)),
        ("NDH002", RuleCase(name: "NDH but also diabetic: not on the NDH register",
                            patient: PatientBuilder("j", born: "1960-01-01").with("NDH_COD", on: "2020-01-01").with("DM_COD", on: "2023-01-01"), outcome: .notInRegister, field: nil)),
        ("NDH002", RuleCase(name: "NDH aged 17: not on the register",
                            patient: PatientBuilder("k", born: "2008-06-01").with("NDH_COD", on: "2024-01-01"), outcome: .notInRegister, field: nil)),
        ("VI004", RuleCase(name: "turned 80 on PPED, vaccinated at 75: numerator",
                           patient: PatientBuilder("l", born: "1946-03-31").with("SHVACGP_COD", on: "2021-06-01"), outcome: .numerator, field: nil)),
        ("VI004", RuleCase(name: "turned 80 on 2025-04-01 (first day of the year), not vaccinated: denominator",
                           patient: PatientBuilder("m", born: "1945-04-01"), outcome: .denominator, field: nil)),
        ("VI004", RuleCase(name: "turned 80 on 2025-03-31 (the year before): SHV2AGE",
                           patient: PatientBuilder("n", born: "1945-03-31"), outcome: .excluded, field: "SHV2AGE")),
        ("VI004", RuleCase(name: "vaccinated at 69 only: denominator",
                           patient: PatientBuilder("o", born: "1946-01-01").with("SHVACGP_COD", on: "2015-06-01"), outcome: .denominator, field: nil)),
        ("CHOL004", RuleCase(name: "CHD with LDL exactly 2.0: numerator",
                             patient: chd("p", "1960-01-01").with("LDLCCHOL_COD", on: "2025-10-01", 2.0), outcome: .numerator, field: nil)),
        ("CHOL004", RuleCase(name: "CHD with LDL 2.1: denominator",
                             patient: chd("q", "1960-01-01").with("LDLCCHOL_COD", on: "2025-10-01", 2.1), outcome: .denominator, field: nil)),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}

/// Known answers for the childhood immunisation indicators (facts §2.4d, §4.1).
@Suite("QOF 2025/26: VI001, VI002, VI003")
struct ChildhoodImmunisationTests {
    static func child(_ id: String, born: String) -> PatientBuilder { PatientBuilder(id, born: born, registered: born) }
    static let dtap = "DTAPVAC_COD"
    static let mmr = "MMRVAC_COD"

    static let cases: [(String, RuleCase)] = [
        ("VI001", RuleCase(name: "8 months on 2026-03-01, three doses before 8 months: numerator",
                           patient: child("a", born: "2025-07-01").with(dtap, on: "2025-08-26").with(dtap, on: "2025-09-23").with(dtap, on: "2025-10-21"),
                           outcome: .numerator, field: nil)),
        ("VI001", RuleCase(name: "third dose on the 8-month birthday itself: too late, denominator",
                           patient: child("b", born: "2025-07-01").with(dtap, on: "2025-08-26").with(dtap, on: "2025-09-23").with(dtap, on: "2026-03-01"),
                           outcome: .denominator, field: nil)),
        ("VI001", RuleCase(name: "reached 8 months on 2025-03-31 (the year before): not in the register",
                           patient: child("c", born: "2024-07-31"), outcome: .notInRegister, field: nil)),
        ("VI002", RuleCase(name: "MMR at 13 months: numerator",
                           patient: child("d", born: "2024-08-15").with(mmr, on: "2025-09-20"), outcome: .numerator, field: nil)),
        ("VI002", RuleCase(name: "MMR before the first birthday only: denominator",
                           patient: child("e", born: "2024-08-15").with(mmr, on: "2025-08-14"), outcome: .denominator, field: nil)),
        ("VI003", RuleCase(name: "booster and two MMR between 1 and 5: numerator",
                           patient: child("f", born: "2021-01-10").with(mmr, on: "2022-01-20").with(mmr, on: "2024-05-20").with(dtap, on: "2024-05-20"),
                           outcome: .numerator, field: nil)),
        ("VI003", RuleCase(name: "one MMR only: denominator",
                           patient: child("g", born: "2021-01-10").with(mmr, on: "2022-01-20").with(dtap, on: "2024-05-20"),
                           outcome: .denominator, field: nil)),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c) }
}
