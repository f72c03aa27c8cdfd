import Clinical
import Postgres
@testable import RulesEngine
import Storage
import Testing
import TestSupport

@Suite("Per-patient outcomes in the database")
struct PatientOutcomeStoreTests {
    /// Stores one run of practice A81001 holding `outcomes`; returns the connection and the run id.
    static func store(_ outcomes: [PatientOutcome], registers: [RegisterResult] = []) async throws -> (PostgresConnection, Int64) {
        let conn = try await TestDatabase.connect(migrated: true)
        let result = PracticeResult(ods: "A81001", pcn: nil, listSize: outcomes.count, registers: registers, indicators: [], patients: outcomes)
        let record = RunRecord(extractID: nil, practice: PracticeInfo(ods: "A81001", name: "T"), rulesetID: "qof-2025-26", rulesetSHA256: "x",
                               clusterVersion: "c", achievementDate: Day(year: 2026, month: 3, day: 31)!, result: result, engineVersion: "e")
        let run = try await conn.withTransaction { c in
            try RunStore.recordOrganisations(record.practice, on: record.achievementDate, in: c)
            return try RunStore.store(record, in: c)
        }
        return (conn, run)
    }

    @Test("outcomes are stored as sets and read back one row per patient, whatever characters the identifiers hold")
    func roundTrip() async throws {
        let ids = ["P1", "P\"2", "P\\3", "P,4", "{P5}", "P 6", "Pé7"]
        var outcomes = ids.enumerated().map { i, id in
            PatientOutcome(patient: id, indicator: "HYP008", outcome: i % 2 == 0 ? .numerator : .denominator, rule: i % 2 == 0 ? "numerator 1" : "denominator 9", field: nil)
        }
        outcomes.append(PatientOutcome(patient: "P8", indicator: "HYP008", outcome: .pca, rule: "denominator 3", field: "HTMAX"))
        outcomes.append(PatientOutcome(patient: "P9", indicator: "HYP008", outcome: .notInRegister, rule: nil, field: nil))
        let (conn, run) = try await Self.store(outcomes, registers: [RegisterResult(id: "HYP_REG", size: 8)])
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
        let outcomes = (0..<12_001).map { PatientOutcome(patient: "A81001-\($0)", indicator: "BP002", outcome: .numerator, rule: "numerator 1", field: nil) }
        let (conn, run) = try await Self.store(outcomes)
        #expect(try await conn.query("SELECT count(*) FROM patient_outcome_set WHERE run_id = \(run)")[0].decode(0, as: Int.self) == 3)
        #expect(try await conn.query("SELECT count(DISTINCT patient_id) FROM patient_outcome WHERE run_id = \(run)")[0].decode(0, as: Int.self) == 12_001)
    }
}

extension PatientOutcomeStoreTests {
    @Test("results must name an existing run (checked once per statement), and deleting a run deletes its results")
    func runReferences() async throws {
        let outcomes = (0..<10).map { PatientOutcome(patient: "P\($0)", indicator: "BP002", outcome: .numerator, rule: "numerator 1", field: nil) }
        let (conn, run) = try await Self.store(outcomes, registers: [RegisterResult(id: "BP_REG", size: 10)])
        // A row naming no run is refused, by INSERT and by COPY alike; one naming a real run is taken.
        await #expect(throws: PostgresError.self) {
            try await conn.executeScript("INSERT INTO register_result (run_id, register_id, size) VALUES (\(run + 1000), 'X_REG', 1)")
        }
        await #expect(throws: PostgresError.self) {
            try await conn.withTransaction { c in
                try c.copyIn(table: "rule_count", columns: ["run_id", "indicator_id", "field_name", "field_kind", "value"]) { w in
                    for id in [run, run + 1000] {
                        try w.append(Int(id))
                        try w.append("BP002")
                        try w.append("F\(id)")
                        try w.append("select")
                        try w.append(1)
                        try w.endRow()
                    }
                }
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM rule_count WHERE run_id = \(run) AND field_name LIKE 'F%'")[0].decode(0, as: Int.self) == 0)
        await #expect(throws: PostgresError.self) {
            try await conn.executeScript("UPDATE patient_outcome_set SET run_id = \(run + 1000) WHERE run_id = \(run)")
        }
        try await conn.executeScript("INSERT INTO register_result (run_id, register_id, size) VALUES (\(run), 'X_REG', 1)")
        // Deleting the run takes its results with it.
        try await conn.executeScript("DELETE FROM computation_run WHERE id = \(run)")
        for table in ["register_result", "patient_outcome_set", "rule_count", "indicator_result"] {
            #expect(try await conn.query("SELECT count(*) FROM \(unescaped: table) WHERE run_id = \(run)")[0].decode(0, as: Int.self) == 0, "\(table)")
        }
    }
}
