import Clinical
import RulesEngine
import Testing

/// Known answers for the hypertension register, HYP008 and HYP009, written from the rule logic
/// (facts §2.4a): one small history per rule branch and boundary. PPED = achievement date = 2026-03-31.
@Suite("QOF 2025/26 hypertension: HYP_REG, HYP008, HYP009")
struct HypertensionRulesTests {
    /// A hypertensive patient diagnosed long ago, aged 60 on 2026-03-31.
    static func hyp(_ id: String, born: String = "1966-01-01", registered: String = "2000-01-01") -> PatientBuilder {
        PatientBuilder(id, born: born, registered: registered).with("HYP_COD", on: "2010-05-05")
    }

    static let hyp008Cases: [RuleCase] = [
        RuleCase(name: "aged 79 on PPED (born 1946-04-01), BP exactly 140/90: numerator",
             patient: hyp("a", born: "1946-04-01").bp(140, 90, on: "2026-01-12"), outcome: .numerator, field: nil),
        RuleCase(name: "aged 80 on PPED (born 1946-03-31): excluded PAT_AGEO79",
             patient: hyp("b", born: "1946-03-31").bp(120, 70, on: "2026-01-12"), outcome: .excluded, field: "PAT_AGEO79"),
        RuleCase(name: "systolic 141: denominator", patient: hyp("c").bp(141, 80, on: "2026-01-12"), outcome: .denominator, field: nil),
        RuleCase(name: "diastolic 91: denominator", patient: hyp("d").bp(130, 91, on: "2026-01-12"), outcome: .denominator, field: nil),
        RuleCase(name: "reading on the first day of the window (2025-04-01): numerator",
             patient: hyp("e").bp(130, 80, on: "2025-04-01"), outcome: .numerator, field: nil),
        RuleCase(name: "reading the day before the window (2025-03-31): no reading in the year, denominator",
             patient: hyp("f").bp(130, 80, on: "2025-03-31"), outcome: .denominator, field: nil),
        RuleCase(name: "reading on PPED itself: numerator", patient: hyp("g").bp(130, 80, on: "2026-03-31"), outcome: .numerator, field: nil),
        RuleCase(name: "same-day readings 150/95 and 135/85: lowest values count, numerator",
             patient: hyp("h").bp(150, 95, on: "2026-02-01").bp(135, 85, on: "2026-02-01"), outcome: .numerator, field: nil),
        RuleCase(name: "earlier reading at target, latest above: the latest counts, denominator",
             patient: hyp("i").bp(120, 70, on: "2025-09-01").bp(160, 95, on: "2026-02-01"), outcome: .denominator, field: nil),
        RuleCase(name: "home BP 134/84 (home target 135/85): numerator",
             patient: hyp("j").bp(134, 84, on: "2026-02-01", cluster: "HOMEBP_COD"), outcome: .numerator, field: nil),
        RuleCase(name: "home BP 138/84: above the home target, denominator",
             patient: hyp("k").bp(138, 84, on: "2026-02-01", cluster: "HOMEBP_COD"), outcome: .denominator, field: nil),
        RuleCase(name: "maximal therapy with a high reading: PCA HTMAX",
             patient: hyp("l").bp(160, 90, on: "2026-01-01").with("HTMAX_COD", on: "2025-11-01"), outcome: .pca, field: "HTMAX"),
        RuleCase(name: "maximal therapy recorded before the year: not a PCA",
             patient: hyp("m").bp(160, 90, on: "2026-01-01").with("HTMAX_COD", on: "2025-03-31"), outcome: .denominator, field: nil),
        RuleCase(name: "care unsuitable: PCA HYPPCAPU",
             patient: hyp("n").with("HYPPCAPU_COD", on: "2025-12-01"), outcome: .pca, field: "HYPPCAPU"),
        RuleCase(name: "BP declined: PCA BPORHBPDEC",
             patient: hyp("o").with("BPDEC_COD", on: "2025-12-01"), outcome: .pca, field: "BPORHBPDEC"),
        RuleCase(name: "chose not to receive care: PCA HYPPCADEC",
             patient: hyp("p").with("HYPPCADEC_COD", on: "2025-12-01"), outcome: .pca, field: "HYPPCADEC"),
        RuleCase(name: "high reading then two invitations 7 days apart: PCA HYPBPINV",
             patient: hyp("q").bp(160, 95, on: "2025-06-01").with("HYPINVITE_COD", on: "2025-07-01").with("HYPINVITE_COD", on: "2025-07-08"),
             outcome: .pca, field: "HYPBPINV"),
        RuleCase(name: "high reading then two invitations 6 days apart: denominator",
             patient: hyp("r").bp(160, 95, on: "2025-06-01").with("HYPINVITE_COD", on: "2025-07-01").with("HYPINVITE_COD", on: "2025-07-07"),
             outcome: .denominator, field: nil),
        RuleCase(name: "invitations before the high reading: denominator",
             patient: hyp("s").with("HYPINVITE_COD", on: "2025-05-01").with("HYPINVITE_COD", on: "2025-05-20").bp(160, 95, on: "2025-06-01"),
             outcome: .denominator, field: nil),
        RuleCase(name: "no reading and two invitations: PCA HYPBPINV",
             patient: hyp("t").with("HYPINVITE_COD", on: "2025-09-01").with("HYPINVITE_COD", on: "2025-10-01"), outcome: .pca, field: "HYPBPINV"),
        RuleCase(name: "first diagnosed 2025-07-01 (within 9 months of PPED): PCA DIAG1_DT9M",
             patient: PatientBuilder("u", born: "1966-01-01").with("HYP_COD", on: "2025-07-01"), outcome: .pca, field: "DIAG1_DT9M"),
        RuleCase(name: "first diagnosed 2025-06-30 (9 months before PPED exactly): denominator",
             patient: PatientBuilder("v", born: "1966-01-01").with("HYP_COD", on: "2025-06-30"), outcome: .denominator, field: nil),
        RuleCase(name: "registered 2025-07-01: PCA REG1_DAT9", patient: hyp("w", registered: "2025-07-01"), outcome: .pca, field: "REG1_DAT9"),
        RuleCase(name: "registered 2025-06-30: denominator", patient: hyp("x", registered: "2025-06-30"), outcome: .denominator, field: nil),
        RuleCase(name: "resolved after the diagnosis: not on the register",
             patient: hyp("y").with("HYPRES_COD", on: "2015-01-01"), outcome: .notInRegister, field: nil),
        RuleCase(name: "resolved, then diagnosed again: on the register",
             patient: hyp("z").with("HYPRES_COD", on: "2015-01-01").with("HYP_COD", on: "2020-01-01").bp(120, 80, on: "2026-01-01"),
             outcome: .numerator, field: nil),
        RuleCase(name: "resolved on the same day as the latest diagnosis: stays on the register",
             patient: hyp("za").with("HYPRES_COD", on: "2010-05-05").bp(120, 80, on: "2026-01-01"), outcome: .numerator, field: nil),
        RuleCase(name: "systolic 138 and diastolic 88 recorded as separate rows on the same day: numerator",
             patient: hyp("zc").concept(271_649_006, on: "2026-02-01", 138).concept(271_650_006, on: "2026-02-01", 88), outcome: .numerator, field: nil),
        RuleCase(name: "separate rows, systolic 146: denominator",
             patient: hyp("zd").concept(271_649_006, on: "2026-02-01", 146).concept(271_650_006, on: "2026-02-01", 88), outcome: .denominator, field: nil),
        RuleCase(name: "a full reading 150/95 and a lone diastolic 80 the same day: the reading is not mixed with the lone value, denominator",
             patient: hyp("ze").bp(150, 95, on: "2026-02-01").concept(271_650_006, on: "2026-02-01", 80), outcome: .denominator, field: nil),
        RuleCase(name: "a numerator reading also wins over a PCA code (PCAs only remove non-achievers)",
             patient: hyp("zb").bp(120, 80, on: "2026-01-01").with("HYPPCADEC_COD", on: "2025-12-01"), outcome: .numerator, field: nil),
    ]

    @Test("HYP008 known answers", arguments: hyp008Cases)
    func hyp008(_ c: RuleCase) throws {
        let outcomes = try Fixtures.outcomes([c.patient], indicator: "HYP008")
        let (outcome, field) = try #require(outcomes[c.patient.id])
        #expect(outcome == c.outcome)
        #expect(field == c.field)
    }

    static let hyp009Cases: [RuleCase] = [
        RuleCase(name: "aged 80, BP exactly 150/90: numerator",
             patient: hyp("a", born: "1946-03-31").bp(150, 90, on: "2026-01-12"), outcome: .numerator, field: nil),
        RuleCase(name: "aged 80, systolic 151: denominator",
             patient: hyp("b", born: "1946-03-31").bp(151, 90, on: "2026-01-12"), outcome: .denominator, field: nil),
        RuleCase(name: "aged 79: excluded PAT_AGEU80",
             patient: hyp("c", born: "1946-04-01").bp(120, 70, on: "2026-01-12"), outcome: .excluded, field: "PAT_AGEU80"),
        RuleCase(name: "aged 85, home BP 145/85: numerator",
             patient: hyp("d", born: "1940-06-01").bp(145, 85, on: "2026-01-12", cluster: "HOMEBP_COD"), outcome: .numerator, field: nil),
    ]

    @Test("HYP009 known answers", arguments: hyp009Cases)
    func hyp009(_ c: RuleCase) throws {
        let outcomes = try Fixtures.outcomes([c.patient], indicator: "HYP009")
        let (outcome, field) = try #require(outcomes[c.patient.id])
        #expect(outcome == c.outcome)
        #expect(field == c.field)
    }

    @Test("the dead, the deregistered and records after the achievement date are not counted")
    func population() throws {
        var died = Self.hyp("dead").bp(120, 70, on: "2026-01-01")
        died.died = "2026-02-15"
        var left = Self.hyp("left").bp(120, 70, on: "2026-01-01")
        left.deregistered = "2026-02-01"
        let future = Self.hyp("future").bp(120, 70, on: "2026-03-01")
        let compiled = try CompiledRuleset(Fixtures.rulesets["qof-2025-26"]!, achievementDate: Day(iso: "2026-02-28"), library: Fixtures.library)
        let result = Engine(compiled).evaluate(Fixtures.population([died, left, future]), patientOutcomes: true)
        #expect(result.listSize == 1)
        let hyp008 = result.indicators.first { $0.id == "HYP008" }!
        #expect(hyp008.registerSize == 1 && hyp008.denominator == 1)
        // The reading on 2026-03-01 is after the achievement date 2026-02-28: not used.
        #expect(hyp008.numerator == 0)
    }

    @Test("per-rule counts add up: register = denominator + exclusions + PCAs, denominator >= numerator")
    func countsAddUp() throws {
        let patients = Self.hyp008Cases.map(\.patient).filter { $0.id != "y" }
        let compiled = try CompiledRuleset(Fixtures.rulesets["qof-2025-26"]!, library: Fixtures.library)
        let result = Engine(compiled).evaluate(Fixtures.population(patients))
        let r = result.indicators.first { $0.id == "HYP008" }!
        #expect(r.registerSize == r.denominator + r.fields.values.reduce(0, +))
        #expect(r.denominator >= r.numerator)
        #expect(r.numerator == Self.hyp008Cases.filter { $0.outcome == .numerator }.count)
    }
}
