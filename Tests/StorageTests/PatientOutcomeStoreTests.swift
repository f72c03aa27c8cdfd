import Clinical
import Postgres
@testable import RulesEngine
import Storage
import Testing
import TestSupport

@Suite("Per-patient outcomes in the database")
struct PatientOutcomeStoreTests {
    @Test("outcomes are stored as sets and read back one row per patient, whatever characters the identifiers hold")
    func roundTrip() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let ids = ["P1", "P\"2", "P\\3", "P,4", "{P5}", "P 6", "Pé7"]
        var outcomes = ids.enumerated().map { i, id in
            PatientOutcome(patient: id, indicator: "HYP008", outcome: i % 2 == 0 ? .numerator : .denominator, rule: i % 2 == 0 ? "numerator 1" : "denominator 9", field: nil)
        }
        outcomes.append(PatientOutcome(patient: "P8", indicator: "HYP008", outcome: .pca, rule: "denominator 3", field: "HTMAX"))
        outcomes.append(PatientOutcome(patient: "P9", indicator: "HYP008", outcome: .notInRegister, rule: nil, field: nil))
        let result = PracticeResult(ods: "A81001", pcn: nil, listSize: 9, registers: [RegisterResult(id: "HYP_REG", size: 8)],
                                    indicators: [], patients: outcomes)
        let record = RunRecord(extractID: nil, practice: PracticeInfo(ods: "A81001", name: "T"), rulesetID: "qof-2025-26", rulesetSHA256: "x",
                               clusterVersion: "c", achievementDate: Day(year: 2026, month: 3, day: 31)!, result: result, engineVersion: "e")
        let run = try await conn.withTransaction { c in
            try RunStore.recordOrganisations(record.practice, on: record.achievementDate, in: c)
            return try RunStore.store(record, in: c)
        }
        let sets = try await conn.query("SELECT count(*) FROM patient_outcome_set WHERE run_id = \(run)")[0].decode(0, as: Int.self)
        #expect(sets == 3, "numerator, denominator and one PCA set")
        let rows = try await conn.query("SELECT patient_id, outcome, field_name FROM patient_outcome WHERE run_id = \(run) ORDER BY patient_id")
        let read = try rows.map { "\(try $0.decode(0, as: String.self))|\(try $0.decode(1, as: String.self))|\(try $0.decode(2, as: String?.self) ?? "")" }
        let expected = (outcomes.filter { $0.outcome != .notInRegister }.map { "\($0.patient)|\($0.outcome.rawValue)|\($0.field ?? "")" }).sorted()
        #expect(read.sorted() == expected)
    }
}

extension PatientOutcomeStoreTests {
    @Test("a large practice's outcome set is split into rows of at most 5,000 patients, none lost")
    func largeSets() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let outcomes = (0..<12_001).map { PatientOutcome(patient: "A81001-\($0)", indicator: "BP002", outcome: .numerator, rule: "numerator 1", field: nil) }
        let result = PracticeResult(ods: "A81001", pcn: nil, listSize: 12_001, registers: [], indicators: [], patients: outcomes)
        let record = RunRecord(extractID: nil, practice: PracticeInfo(ods: "A81001", name: "T"), rulesetID: "qof-2025-26", rulesetSHA256: "x",
                               clusterVersion: "c", achievementDate: Day(year: 2026, month: 3, day: 31)!, result: result, engineVersion: "e")
        let run = try await conn.withTransaction { c in
            try RunStore.recordOrganisations(record.practice, on: record.achievementDate, in: c)
            return try RunStore.store(record, in: c)
        }
        #expect(try await conn.query("SELECT count(*) FROM patient_outcome_set WHERE run_id = \(run)")[0].decode(0, as: Int.self) == 3)
        #expect(try await conn.query("SELECT count(DISTINCT patient_id) FROM patient_outcome WHERE run_id = \(run)")[0].decode(0, as: Int.self) == 12_001)
    }
}
