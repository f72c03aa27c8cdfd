import Clinical
import RulesEngine
import Storage
import Testing
@testable import Web

/// The web view's patients come from the run's stored outcomes when the archived extract read back is the
/// roster they point into, and from a re-evaluation otherwise.
@Suite("Snapshots from stored outcomes")
struct SnapshotOutcomesTests {
    static func population() throws -> Population {
        var b = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "T"), dataTo: Day(year: 2026, month: 3, day: 31)!)
        for id in ["P1", "P2", "P3"] {
            b.addPatient(id: id, born: Day(year: 1960, month: 1, day: 1)!, sex: .female, registrations: [Registration(start: Day(year: 2000, month: 1, day: 1)!)])
        }
        return try b.build()
    }

    @Test("positions into the same roster become the population's rows; identifiers are found by id")
    func mapped() throws {
        let p = try Self.population()
        let index = ["P1": 0, "P2": 1, "P3": 2]
        let sets = [StoredOutcomes.OutcomeSet(indicator: "HYP008", outcome: .numerator, rule: "numerator 1", field: nil, positions: [0, 2], patients: nil),
                    StoredOutcomes.OutcomeSet(indicator: "HYP008", outcome: .pca, rule: "denominator 3", field: "HYPPCADEC", positions: nil, patients: ["P2"])]
        let result = try #require(PracticeSnapshot.storedResult((StoredOutcomes.fingerprint(p.patientIDs), sets), population: p, index: index))
        #expect(result.patients?.map { "\($0.patient) \($0.outcome.rawValue) \($0.field ?? "")" }.sorted() == ["P1 numerator ", "P2 pca HYPPCADEC", "P3 numerator "])
    }

    @Test("another roster, a position past the list or an unknown identifier: not used (the snapshot re-evaluates)")
    func refused() throws {
        let p = try Self.population()
        let index = ["P1": 0, "P2": 1, "P3": 2]
        let positions = [StoredOutcomes.OutcomeSet(indicator: "HYP008", outcome: .numerator, rule: nil, field: nil, positions: [0], patients: nil)]
        #expect(PracticeSnapshot.storedResult((StoredOutcomes.fingerprint(["P3", "P2", "P1"]), positions), population: p, index: index) == nil)
        let past = [StoredOutcomes.OutcomeSet(indicator: "HYP008", outcome: .numerator, rule: nil, field: nil, positions: [3], patients: nil)]
        #expect(PracticeSnapshot.storedResult((StoredOutcomes.fingerprint(p.patientIDs), past), population: p, index: index) == nil)
        let unknown = [StoredOutcomes.OutcomeSet(indicator: "HYP008", outcome: .numerator, rule: nil, field: nil, positions: nil, patients: ["P9"])]
        #expect(PracticeSnapshot.storedResult((nil, unknown), population: p, index: index) == nil)
    }
}
