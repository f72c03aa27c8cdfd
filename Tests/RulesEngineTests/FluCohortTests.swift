import Clinical
import Payments
import RulesEngine
import Testing

/// Known answers for the 2025/26 flu cohorts at every boundary (facts §4.2).
@Suite("Flu 2025/26 cohorts")
struct FluCohortTests {
    static let cases: [(String, RuleCase)] = [
        ("FLU_65PLUS", RuleCase(name: "65th birthday on 31 March 2026: eligible, not vaccinated",
                                patient: PatientBuilder("a", born: "1961-03-31"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_65PLUS", RuleCase(name: "65th birthday on 1 April 2026: not eligible",
                                patient: PatientBuilder("b", born: "1961-04-01"), outcome: .excluded, field: nil)),
        ("FLU_65PLUS", RuleCase(name: "vaccinated by the practice on 1 October 2025, the adult programme's first day: vaccinated",
                                patient: PatientBuilder("c", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2025-10-01"), outcome: .numerator, field: nil)),
        ("FLU_65PLUS", RuleCase(name: "a dose recorded on 30 September 2025, before the adult programme: not counted, flagged",
                                patient: PatientBuilder("c2", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2025-09-30"), outcome: .denominator, field: "VACC_BEFORE_START")),
        ("FLU_65PLUS", RuleCase(name: "a September dose and an October one: vaccinated",
                                patient: PatientBuilder("c3", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2025-09-10")
                                    .with("qofd-flu-given-elsewhere", on: "2025-10-02"), outcome: .numerator, field: nil)),
        ("FLU_65PLUS", RuleCase(name: "vaccinated the day before the season: still to vaccinate",
                                patient: PatientBuilder("d", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2025-08-31"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_RISK_18_64", RuleCase(name: "aged 40 at risk, vaccinated on 30 September 2025: not counted, flagged",
                                    patient: PatientBuilder("j2", born: "1986-01-01").with("primis-cld", on: "2019-01-01").with("qofd-flu-given-elsewhere", on: "2025-09-30"),
                                    outcome: .denominator, field: "VACC_BEFORE_START")),
        ("FLU_AGE2_3", RuleCase(name: "aged 3, vaccinated on 1 September 2025 (children from 1 September): vaccinated",
                                patient: PatientBuilder("f2", born: "2022-01-01", registered: "2022-01-10").with("qofd-flu-given-by-practice", on: "2025-09-01"),
                                outcome: .numerator, field: nil)),
        ("FLU_PREGNANT", RuleCase(name: "pregnant, vaccinated on 1 September 2025 (pregnant women from 1 September): vaccinated",
                                  patient: PatientBuilder("q", born: "1995-01-01").concept(Self.pregnancyOnly, on: "2025-06-01")
                                    .with("qofd-flu-given-by-practice", on: "2025-09-01"), outcome: .numerator, field: nil)),
        ("FLU_PREGNANT", RuleCase(name: "latest pregnancy code a delivery before the season: not pregnant",
                                  patient: PatientBuilder("q2", born: "1995-01-01").with("primis-pregdel", on: "2025-08-01"),
                                  outcome: .notInRegister, field: nil)),
        ("FLU_RISK_6M_17", RuleCase(name: "aged 6 months on 31 March 2026 with chronic heart disease: eligible",
                                    patient: PatientBuilder("r1", born: "2025-09-30", registered: "2025-10-05").with("primis-chd_cov", on: "2025-10-10"),
                                    outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_RISK_6M_17", RuleCase(name: "6 months old only after 31 March 2026: not eligible",
                                    patient: PatientBuilder("r2", born: "2025-10-01", registered: "2025-10-05").with("primis-chd_cov", on: "2025-10-10"),
                                    outcome: .excluded, field: nil)),
        ("FLU_RISK_6M_17", RuleCase(name: "17 on 31 March 2026 with chronic liver disease, vaccinated 1 September: vaccinated",
                                    patient: PatientBuilder("r3", born: "2008-04-01").with("primis-cld", on: "2019-01-01").with("qofd-flu-given-elsewhere", on: "2025-09-01"),
                                    outcome: .numerator, field: nil)),
        ("FLU_RISK_6M_17", RuleCase(name: "18 on 31 March 2026: in the 18-64 cohort, not this one",
                                    patient: PatientBuilder("r4", born: "2008-03-31").with("primis-cld", on: "2019-01-01"), outcome: .excluded, field: nil)),
        ("FLU_RISK_18_64", RuleCase(name: "18 on 31 March 2026 with chronic liver disease: eligible",
                                    patient: PatientBuilder("r5", born: "2008-03-31").with("primis-cld", on: "2019-01-01"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_SCHOOL", RuleCase(name: "born 2021-08-31 (Reception in 2025/26): eligible",
                                patient: PatientBuilder("s1", born: "2021-08-31", registered: "2021-09-10"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_SCHOOL", RuleCase(name: "born 2021-09-01 (nursery): not eligible",
                                patient: PatientBuilder("s2", born: "2021-09-01", registered: "2021-09-10"), outcome: .excluded, field: nil)),
        ("FLU_SCHOOL", RuleCase(name: "born 2009-09-01 (Year 11), vaccinated by the school service: vaccinated",
                                patient: PatientBuilder("s3", born: "2009-09-01").with("qofd-flu-given-elsewhere", on: "2025-10-15"), outcome: .numerator, field: nil)),
        ("FLU_SCHOOL", RuleCase(name: "born 2009-08-31 (left school): not eligible",
                                patient: PatientBuilder("s4", born: "2009-08-31"), outcome: .excluded, field: nil)),
        ("FLU_SOCIALCARE", RuleCase(name: "employed by a domiciliary care provider, aged 30: eligible",
                                    patient: PatientBuilder("w1", born: "1996-01-01").with("primis-domcare", on: "2024-01-01"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_SOCIALCARE", RuleCase(name: "no employment code: not eligible",
                                    patient: PatientBuilder("w2", born: "1996-01-01"), outcome: .excluded, field: nil)),
        ("FLU_CAREHOME", RuleCase(name: "employed by a care home (a worker, not a resident): not in the care-home cohort",
                                  patient: PatientBuilder("w3", born: "1990-01-01").with("primis-carehome", on: "2024-01-01"), outcome: .excluded, field: nil)),
        ("FLU_CAREHOME", RuleCase(name: "lives in a care home: eligible",
                                  patient: PatientBuilder("w4", born: "1935-01-01").with("primis-longres", on: "2024-01-01"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_65PLUS", RuleCase(name: "vaccinated by a pharmacist: vaccinated (elsewhere)",
                                patient: PatientBuilder("e", born: "1950-01-01").with("qofd-flu-given-elsewhere", on: "2025-10-10"), outcome: .numerator, field: nil)),
        ("FLU_AGE2_3", RuleCase(name: "born 2021-09-01 (3 on 31 August 2025): eligible",
                                patient: PatientBuilder("f", born: "2021-09-01", registered: "2021-09-10"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_AGE2_3", RuleCase(name: "born 2021-08-31 (4 on 31 August 2025): not eligible",
                                patient: PatientBuilder("g", born: "2021-08-31", registered: "2021-09-10"), outcome: .excluded, field: nil)),
        ("FLU_AGE2_3", RuleCase(name: "born 2023-08-31 (2 on 31 August 2025): eligible",
                                patient: PatientBuilder("h", born: "2023-08-31", registered: "2023-09-10"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_AGE2_3", RuleCase(name: "born 2023-09-01 (1 on 31 August 2025): not eligible",
                                patient: PatientBuilder("i", born: "2023-09-01", registered: "2023-09-10"), outcome: .excluded, field: nil)),
        ("FLU_RISK_18_64", RuleCase(name: "aged 40 with chronic liver disease: eligible",
                                    patient: PatientBuilder("j", born: "1986-01-01").with("primis-cld", on: "2019-01-01"), outcome: .denominator, field: "TO_VACCINATE")),
        ("FLU_RISK_18_64", RuleCase(name: "aged 40 with asthma but no recent treatment or admission: not at risk",
                                    patient: PatientBuilder("k", born: "1986-01-01").with("primis-ast", on: "2010-01-01"), outcome: .notInRegister, field: nil)),
        ("FLU_RISK_18_64", RuleCase(name: "aged 66 with chronic liver disease: in the 65+ cohort, not this one",
                                    patient: PatientBuilder("l", born: "1960-01-01").with("primis-cld", on: "2019-01-01"), outcome: .excluded, field: nil)),
        ("FLU_RISK_18_64", RuleCase(name: "aged 30 with BMI 41: at risk (morbid obesity)",
                                    patient: PatientBuilder("m", born: "1996-01-01").with("primis-bmi", on: "2024-01-01", 41), outcome: .denominator, field: "TO_VACCINATE")),
    ]

    /// A pregnancy code that is not a delivery code (PRIMIS's pregnancy list includes the delivery codes).
    static let pregnancyOnly: UInt64 = Fixtures.library["primis-preg"]!.concepts.subtracting(Fixtures.library["primis-pregdel"]!.concepts).min()!

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws {
        let (cohort, rc) = c
        let (outcome, field) = try #require(try Fixtures.outcomes([rc.patient], ruleset: "flu-2025-26", indicator: cohort)[rc.patient.id])
        #expect(outcome == rc.outcome, "\(cohort): \(rc.name)")
        #expect(field == rc.field, "\(cohort): \(rc.name)")
    }

    @Test("2024/25: adults from 3 October 2024, school years a year earlier, the 2025/26 cohorts otherwise")
    func previousSeason() throws {
        let cases: [(String, PatientBuilder, Outcome, String?)] = [
            ("FLU_65PLUS", PatientBuilder("a", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2024-10-02"), .denominator, "VACC_BEFORE_START"),
            ("FLU_65PLUS", PatientBuilder("b", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2024-10-03"), .numerator, nil),
            ("FLU_AGE2_3", PatientBuilder("c", born: "2021-01-01", registered: "2021-01-10").with("qofd-flu-given-by-practice", on: "2024-09-01"), .numerator, nil),
            ("FLU_SCHOOL", PatientBuilder("d", born: "2008-09-01"), .denominator, "TO_VACCINATE"),
            ("FLU_SCHOOL", PatientBuilder("e", born: "2008-08-31"), .excluded, nil),
            ("FLU_SOCIALCARE", PatientBuilder("f", born: "1980-01-01").with("primis-nursehome", on: "2020-01-01"), .denominator, "TO_VACCINATE"),
        ]
        for (cohort, patient, outcome, field) in cases {
            let got = try #require(try Fixtures.outcomes([patient], ruleset: "flu-2024-25", indicator: cohort)[patient.id])
            #expect(got.0 == outcome && got.1 == field, "\(cohort) \(patient.id)")
        }
    }

    @Test("cohort counts: eligible = vaccinated + declined + contraindicated + still to vaccinate")
    func counts() throws {
        let patients = [
            PatientBuilder("p1", born: "1950-01-01").with("qofd-flu-given-by-practice", on: "2025-10-01"),
            PatientBuilder("p2", born: "1950-01-01").with("qofd-flu-given-elsewhere", on: "2025-10-01"),
            PatientBuilder("p3", born: "1950-01-01"),
            PatientBuilder("p4", born: "1990-01-01"),
        ]
        let compiled = try CompiledRuleset(Fixtures.rulesets["flu-2025-26"]!, library: Fixtures.library)
        let r = Engine(compiled).evaluate(Fixtures.population(patients)).indicators.first { $0.id == "FLU_65PLUS" }!
        #expect(r.denominator == 3 && r.numerator == 2)
        #expect(r.fields["VACC_PRACTICE"] == 1 && r.fields["VACC_ELSEWHERE"] == 1 && r.fields["TO_VACCINATE"] == 1)
        #expect(r.fields["DECLINED"] == 0 && r.fields["CONTRAINDICATED"] == 0)
    }
}

@Suite("Flu call list")
struct FluCallListTests {
    @Test("not yet vaccinated, not declined; care homes first, then the most deprived, then the oldest; each patient once")
    func ordering() throws {
        let patients = [
            PatientBuilder("old-rich", born: "1940-01-01"),
            PatientBuilder("young65-poor", born: "1958-01-01"),
            PatientBuilder("done", born: "1945-01-01").with("qofd-flu-given-by-practice", on: "2025-10-01"),
            PatientBuilder("schoolchild", born: "2015-05-01", registered: "2015-05-10"),
            PatientBuilder("carehome", born: "1935-01-01").with("primis-longres", on: "2020-01-01"),
            PatientBuilder("child", born: "2022-05-01", registered: "2022-05-10"),
        ]
        var builder = PopulationBuilder(Fixtures.population(patients))
        builder.lsoaCodes = ["E01000001", "E01000002"]
        builder.lsoa = [0, 1, -1, -1, -1, -1]
        let population = try builder.build()
        let compiled = try CompiledRuleset(Fixtures.rulesets["flu-2025-26"]!, library: Fixtures.library)
        let result = Engine(compiled).evaluate(population, patientOutcomes: true)
        let list = FluCallList.build(result, callList: compiled.ruleset.callList, population: population, ageOn: compiled.ageOn, deciles: ["E01000001": 9, "E01000002": 1])
        #expect(list.map(\.patient) == ["carehome", "young65-poor", "old-rich", "child"])
        #expect(list.map(\.cohort) == ["FLU_CAREHOME", "FLU_65PLUS", "FLU_65PLUS", "FLU_AGE2_3"])
        #expect(FluCallList.csv(list).hasPrefix("cohort,patient_id,nhs_number,age,imd_decile,lsoa\nFLU_CAREHOME,carehome,"))
    }
}

@Suite("Shingles 2025/26 cohorts")
struct ShinglesCohortTests {
    static let cases: [(String, RuleCase)] = [
        ("SHINGLES_TURNING_65", RuleCase(name: "born 1960-09-01, 65 on 2025-09-01: eligible", patient: PatientBuilder("a", born: "1960-09-01"),
                                         outcome: .denominator, field: "TO_VACCINATE")),
        ("SHINGLES_TURNING_65", RuleCase(name: "born 1960-08-31: turned 65 before the programme year", patient: PatientBuilder("b", born: "1960-08-31"),
                                         outcome: .excluded, field: nil)),
        ("SHINGLES_70_79", RuleCase(name: "aged 79, vaccinated at 75: vaccinated",
                                    patient: PatientBuilder("c", born: "1946-06-01").with("SHVACGP_COD", on: "2021-07-01"), outcome: .numerator, field: nil)),
        ("SHINGLES_70_79", RuleCase(name: "aged 80: not in the 70-79 cohort", patient: PatientBuilder("d", born: "1946-01-01"), outcome: .excluded, field: nil)),
    ]

    @Test("known answers", arguments: cases)
    func knownAnswers(_ c: (String, RuleCase)) throws {
        let (cohort, rc) = c
        let (outcome, field) = try #require(try Fixtures.outcomes([rc.patient], ruleset: "shingles-2025-26", indicator: cohort,
                                                                 achievementDate: "2026-03-31")[rc.patient.id])
        #expect(outcome == rc.outcome, "\(cohort): \(rc.name)")
        #expect(field == rc.field, "\(cohort): \(rc.name)")
    }
}
