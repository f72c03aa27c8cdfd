import Clinical
import Postgres

/// How long patient-level outcomes are kept: sets of runs older than the retention go, the patient level of
/// population summaries of those dates too, and so do extract rosters nothing remaining points into. Aggregates (counts, points, pounds) are kept for ever.
public enum PatientOutcomeRetention {
    /// Deletes the outcome sets of runs whose achievement date is before `cutoff`, then the rosters left
    /// unused. Returns the outcome sets deleted.
    public static func purge(before cutoff: Day, in conn: isolated PostgresConnection) throws -> Int {
        let n = try conn.execute(
            "DELETE FROM patient_outcome_set WHERE run_id IN (SELECT id FROM computation_run WHERE achievement_date < \(PostgresDate(cutoff)))")
        try conn.execute(
            "DELETE FROM population_patient WHERE run_id IN (SELECT id FROM population_run WHERE as_of < \(PostgresDate(cutoff)))")
        try conn.execute(
            """
            DELETE FROM extract_roster r WHERE NOT EXISTS (
                SELECT 1 FROM computation_run c JOIN patient_outcome_set s ON s.run_id = c.id
                WHERE c.extract_id = r.extract_id AND s.positions IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM population_patient p WHERE p.extract_id = r.extract_id)
            """)
        return n
    }
}
