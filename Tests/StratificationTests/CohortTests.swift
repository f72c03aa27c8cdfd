import Clinical
import Clusters
import Stratification
import Testing

/// The shipped cohorts at their boundaries: QRISK3 10 % or more without a statin (a statin issue or a statin
/// decline takes the patient out), severe frailty without a medication review in 12 months, complex
/// multimorbidity with nothing coded in 12 months.
@Suite("Cohorts to act on")
struct CohortTests {
    static let library = try! ClusterLibrary.bundled()
    static let stratifier = try! PopulationStratifier(library: library, ethnicGroups: try! EthnicGroups.bundled())
    static let cohorts = Dictionary(uniqueKeysWithValues: try! CohortFile.bundled(library: library).map { ($0.id, $0) })
    static let day = Day(iso: "2026-03-31")!
    static func code(_ list: String) -> UInt64 { library[list]!.concepts.min()! }

    struct Person {
        var born = "1961-06-01"
        var events: [(String, String, Float)] = []
        var medicines: [(String, String)] = []
    }

    /// ClinRisk's first test row as records (QRISK3 17.2 % for a woman; here ethnicity not recorded, so a little different, still over 10 %).
    static func atRisk() -> Person {
        Person(events: [("BMIVAL_COD", "2025-01-10", 25.25), ("CHOL2_COD", "2025-02-01", 6.0), ("HDLCCHOL_COD", "2025-02-01", 1.0),
                        ("BP_COD", "2025-05-01", 170), ("BP_COD", "2026-01-05", 180), ("LSMOK_COD", "2025-01-01", .nan)])
    }

    static func members(_ cohort: String, _ people: [Person]) -> [Int] {
        let population = TestPopulation.build(people.map { p in
            TestPerson(born: p.born, events: p.events.map { (code($0.0), $0.1, $0.2) }, medicines: p.medicines.map { (code($0.0), $0.1) })
        })
        let finder = CohortFinder(stratifier: stratifier, population: population, decile: { _ in nil })
        return finder.members(cohorts[cohort]!, on: day).map(\.row)
    }

    @Test("QRISK3 10 % or more without a statin: a statin issued in 12 months, or a recorded decline, takes the patient out")
    func qriskNoStatin() {
        var statin = Self.atRisk()
        statin.medicines = [("STAT_COD", "2025-12-01")]
        var oldStatin = Self.atRisk()
        oldStatin.medicines = [("STAT_COD", "2025-03-01")]
        var declined = Self.atRisk()
        declined.events.append(("STATINDEC_COD", "2024-01-01", .nan))
        var young = Self.atRisk()
        young.born = "2005-01-01"  // 21: QRISK3 does not apply
        #expect(Self.members("qrisk3-no-statin", [Self.atRisk(), statin, oldStatin, declined, young, Person()]) == [0, 2])
    }

    @Test("severe frailty without a medication review in the 12 months")
    func frailtyNoReview() {
        let severe = ("SEVFRAIL_COD", "2025-06-01", Float.nan)
        let people = [Person(born: "1940-01-01", events: [severe]),
                      Person(born: "1940-01-01", events: [severe, ("MEDRVW_COD", "2025-09-01", .nan)]),
                      Person(born: "1940-01-01", events: [severe, ("MEDRVW_COD", "2025-03-31", .nan)]),  // 12 months before: outside
                      Person(born: "1940-01-01", events: [("MODFRAIL_COD", "2025-06-01", .nan)])]
        #expect(Self.members("severe-frailty-no-review", people) == [0, 2])
    }

    @Test("complex multimorbidity with nothing coded in 12 months")
    func complexNotSeen() {
        let ltcs = ["HYP_COD", "DM_COD", "CHD_COD", "AST_COD"].map { ($0, "2015-01-01", Float.nan) }
        let people = [Person(events: ltcs), Person(events: ltcs + [("BP_COD", "2025-10-01", 130)]), Person(events: Array(ltcs.prefix(3)))]
        #expect(Self.members("complex-not-seen", people) == [0])
    }
}

/// Case finding at its boundaries: two raised clinic readings (140/85 or 135/90 counts, 139/89 does not) or one
/// raised home reading; the latest HbA1c 48 against 47; non-diabetic hyperglycaemia without a test; an
/// anticoagulant without atrial fibrillation; CKD resting on an eGFR list qofd does not ship, and saying so.
@Suite("Case finding")
struct CaseFindingTests {
    typealias P = CohortTests.Person

    @Test("possible hypertension: two raised clinic readings in 24 months, or one raised home reading, and no hypertension code")
    func hypertension() {
        let people = [P(events: [("BP_COD", "2025-01-10", 140), ("BP_COD", "2025-06-01", 120)]),                       // one raised: no
                      P(events: [("BP_COD", "2025-01-10", 141), ("BP_COD", "2025-06-01", 125)]),                       // one raised: no
                      P(events: [("BP_COD", "2024-01-10", 150), ("BP_COD", "2025-06-01", 145)]),                       // first outside 24 months: no
                      P(events: [("HOMEBP_COD", "2025-06-01", 136)]),                                                  // home 136: yes
                      P(events: [("HOMEBP_COD", "2025-06-01", 134)]),                                                  // home 134: no
                      P(events: [("BP_COD", "2025-01-10", 142), ("BP_COD", "2025-06-01", 150), ("HYP_COD", "2025-07-01", .nan)])]  // on the register
        // Diastolic is value2: readings carry only the systolic here, so 140 and over counts.
        var twoRaised = P(events: [("BP_COD", "2025-01-10", 140), ("BP_COD", "2025-06-01", 150)])
        twoRaised.born = "1970-01-01"
        #expect(CohortTests.members("possible-hypertension", people + [twoRaised]) == [3, 6])
    }

    @Test("possible diabetes: the latest HbA1c 48 or more and no diabetes code")
    func diabetes() {
        let people = [P(events: [("IFCCHBAM_COD", "2025-06-01", 48)]), P(events: [("IFCCHBAM_COD", "2025-06-01", 47)]),
                      P(events: [("IFCCHBAM_COD", "2025-01-01", 52), ("IFCCHBAM_COD", "2025-06-01", 45)]),
                      P(events: [("IFCCHBAM_COD", "2025-06-01", 60), ("DM_COD", "2025-07-01", .nan)])]
        #expect(CohortTests.members("possible-diabetes", people) == [0])
    }

    @Test("non-diabetic hyperglycaemia without an HbA1c in 12 months; an anticoagulant without atrial fibrillation")
    func ndhAndAnticoagulant() {
        let ndh = [P(events: [("NDH_COD", "2022-01-01", .nan)]), P(events: [("NDH_COD", "2022-01-01", .nan), ("IFCCHBAM_COD", "2025-09-01", 44)])]
        #expect(CohortTests.members("ndh-no-test", ndh) == [0])
        let doac = "opensafely-direct-acting-oral-anticoagulants-doac"
        let anticoagulated = [P(medicines: [(doac, "2026-01-10")]), P(events: [("AFIB_COD", "2020-01-01", .nan)], medicines: [(doac, "2026-01-10")]),
                              P(medicines: [(doac, "2025-06-01")])]
        #expect(CohortTests.members("anticoagulant-no-diagnosis", anticoagulated) == [0])
    }

    @Test("possible CKD rests on an eGFR list qofd does not ship: nobody is found, and the cohort says which list is missing")
    func ckdMissingList() throws {
        let ckd = try #require(CohortTests.cohorts["possible-ckd"])
        #expect(ckd.missingLists == ["EGFR_COD"] && ckd.group == "case finding")
        #expect(CohortTests.cohorts["anticoagulant-no-diagnosis"]?.missingLists == ["VTE_COD"])
        #expect(CohortTests.cohorts["qrisk3-no-statin"]?.missingLists == [])
    }
}
