import Clinical
import RulesEngine
import Testing

/// Known answers for the Network Contract DES IIF indicators at their boundaries (facts §1.2): HI-03's age 14
/// on the achievement date and its health check, action plan and ethnicity; CAN-04's FIT 21 against 22 days
/// before a referral, the exclusions a FIT result overrides, the first and latest referral; and in 2024/25 the
/// switch from CAN-02 to CAN-04 on 1 October 2024.
@Suite("Network Contract DES: HI-03, CAN-04 and CAN-02 known answers")
struct DESIndicatorsTests {
    /// Someone of White British ethnicity as the extract's column records it (a SNOMED ethnic category).
    static let whiteBritish: UInt64 = 976_631_000_000_101
    static func ld(_ id: String, born: String = "1990-05-05") -> PatientBuilder {
        PatientBuilder(id, born: born).with("LD_COD", on: "2010-01-01")
    }
    static func checked(_ p: PatientBuilder, check: String = "2025-06-01", plan: String = "2025-06-01") -> PatientBuilder {
        p.with("HLTHCHK_COD", on: check).with("HLTHAP_COD", on: plan)
    }
    static func referred(_ id: String, on day: String) -> PatientBuilder {
        PatientBuilder(id, born: "1960-01-01").with("GICANREF_COD", on: day)
    }

    static let hi03Cases: [(String, RuleCase)] = [
        known("HI-03", "aged 14 on the achievement date (born 31 March 2012): counted", checked(ld("h1", born: "2012-03-31")).ethnic(whiteBritish), .numerator),
        known("HI-03", "14 the day after the achievement date: excluded", checked(ld("h2", born: "2012-04-01")).ethnic(whiteBritish), .excluded, "PAT_AGEU14"),
        known("HI-03", "check, plan and ethnicity in the column: numerator", checked(ld("h3")).ethnic(whiteBritish), .numerator),
        known("HI-03", "check and plan, ethnicity coded in the record: numerator", checked(ld("h4")).with("ETHNALL_COD", on: "2001-01-01"), .numerator),
        known("HI-03", "ethnicity stated as not given: numerator", checked(ld("h5")).with("ETHNICITYND_COD", on: "2025-06-01"), .numerator),
        known("HI-03", "no ethnicity anywhere: denominator", checked(ld("h6")), .denominator),
        known("HI-03", "action plan before the check: denominator", checked(ld("h7"), check: "2025-06-01", plan: "2025-05-31").ethnic(whiteBritish), .denominator),
        known("HI-03", "action plan on the day of the check: numerator", checked(ld("h8"), check: "2025-06-01", plan: "2025-06-01").ethnic(whiteBritish), .numerator),
        known("HI-03", "check last year (31 March 2025): denominator", checked(ld("h9"), check: "2025-03-31", plan: "2025-03-31").ethnic(whiteBritish), .denominator),
        known("HI-03", "declined the check, none done: excluded", ld("h10").ethnic(whiteBritish).with("HLTHCHKDEC_COD", on: "2025-07-01"), .excluded, "HLTHCHKDEC"),
        known("HI-03", "declined the plan after a check: excluded", ld("h11").ethnic(whiteBritish).with("HLTHCHK_COD", on: "2025-06-01")
            .with("HLTHAPDEC_COD", on: "2025-07-01"), .excluded, "HLTHAPDEC"),
        known("HI-03", "declined, then had both: numerator", checked(ld("h12")).ethnic(whiteBritish).with("HLTHCHKDEC_COD", on: "2025-05-01"), .numerator),
        // (referred too, so the patient is on some register of the ruleset and has outcomes at all)
        known("HI-03", "no learning disability code: not on the register", checked(referred("h13", on: "2025-06-30")).ethnic(whiteBritish), .notInRegister),
    ]

    static let can04Cases: [(String, RuleCase)] = [
        known("CAN-04", "FIT 21 days before the referral: numerator", referred("c1", on: "2025-06-30").with("FAECIMM_COD", on: "2025-06-09"), .numerator),
        known("CAN-04", "FIT 22 days before the referral: denominator", referred("c2", on: "2025-06-30").with("FAECIMM_COD", on: "2025-06-08"), .denominator),
        known("CAN-04", "FIT on the day of the referral: numerator", referred("c3", on: "2025-06-30").with("FAECIMM_COD", on: "2025-06-30"), .numerator),
        known("CAN-04", "FIT the day after the referral: denominator", referred("c4", on: "2025-06-30").with("FAECIMM_COD", on: "2025-07-01"), .denominator),
        known("CAN-04", "no FIT: denominator", referred("c5", on: "2025-06-30"), .denominator),
        known("CAN-04", "FIT not indicated, no FIT: excluded", referred("c6", on: "2025-06-30").with("FITNI_COD", on: "2025-06-30"), .excluded, "FITNI"),
        known("CAN-04", "chose not to have a FIT: excluded", referred("c7", on: "2025-06-30").with("FITDEC_COD", on: "2025-06-20"), .excluded, "FITDEC"),
        known("CAN-04", "chose not to, but a FIT result is recorded (outside the 21 days): the exclusion is overridden, denominator",
              referred("c8", on: "2025-06-30").with("FITDEC_COD", on: "2025-06-20").with("FAECIMM_COD", on: "2025-05-01"), .denominator),
        known("CAN-04", "not indicated, but a FIT result in the 21 days: numerator",
              referred("c9", on: "2025-06-30").with("FITNI_COD", on: "2025-06-30").with("FAECIMM_COD", on: "2025-06-20"), .numerator),
        known("CAN-04", "two referrals, only the first with a FIT: numerator",
              referred("c10", on: "2025-06-30").with("FAECIMM_COD", on: "2025-06-25").with("GICANREF_COD", on: "2025-11-03"), .numerator),
        known("CAN-04", "two referrals, only the latest with a FIT: numerator",
              referred("c11", on: "2025-06-30").with("GICANREF_COD", on: "2025-11-03").with("FAECIMM_COD", on: "2025-10-20"), .numerator),
        known("CAN-04", "referred on 31 March 2025, before the year: not on the register", referred("c12", on: "2025-03-31")
            .with("FAECIMM_COD", on: "2025-03-30").with("LD_COD", on: "2010-01-01"), .notInRegister),
    ]

    /// 2024/25: CAN-02 over referrals to 30 September 2024, CAN-04 from 1 October 2024.
    static let switchoverCases: [(String, RuleCase)] = [
        known("CAN-02", "referred 30 September 2024 with a FIT: CAN-02 numerator", referred("s1", on: "2024-09-30").with("FAECIMM_COD", on: "2024-09-20"), .numerator),
        known("CAN-04", "referred 30 September 2024: not in CAN-04", referred("s2", on: "2024-09-30").with("FAECIMM_COD", on: "2024-09-20"), .notInRegister),
        known("CAN-04", "referred 1 October 2024 with a FIT: CAN-04 numerator", referred("s3", on: "2024-10-01").with("FAECIMM_COD", on: "2024-09-20"), .numerator),
        known("CAN-02", "referred 1 October 2024: not in CAN-02", referred("s4", on: "2024-10-01").with("FAECIMM_COD", on: "2024-09-20"), .notInRegister),
        known("CAN-02", "referred 1 April 2024 without a FIT: CAN-02 denominator", referred("s5", on: "2024-04-01"), .denominator),
    ]

    @Test("HI-03 known answers (2025/26)", arguments: hi03Cases)
    func hi03(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c, ruleset: "des-2025-26") }

    @Test("CAN-04 known answers (2025/26)", arguments: can04Cases)
    func can04(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c, ruleset: "des-2025-26") }

    @Test("2024/25: CAN-02 to 30 September 2024, CAN-04 from 1 October 2024", arguments: switchoverCases)
    func switchover(_ c: (String, RuleCase)) throws { try checkKnownAnswer(c, ruleset: "des-2024-25") }

    @Test("with the shipped code lists HI-03 cannot be computed (its clusters are not public), never a 0 %")
    func hi03OnShippedLists() throws {
        let compiled = try CompiledRuleset(Fixtures.rulesets["des-2025-26"]!, library: Fixtures.shipped)
        #expect(Set(compiled.missingClusters).isSuperset(of: ["HLTHCHK_COD", "HLTHAP_COD", "HLTHCHKDEC_COD", "HLTHAPDEC_COD", "FITNI_COD", "FITDEC_COD"]))
        let result = Engine(compiled).evaluate(Fixtures.population([Self.checked(Self.ld("x1"))]))
        let hi03 = try #require(result.indicators.first { $0.id == "HI-03" })
        #expect(!hi03.completeness.computable)
        #expect(try #require(result.indicators.first { $0.id == "CAN-04" }).completeness.computable, "CAN-04 rests on stand-ins, and can be computed")
    }
}
