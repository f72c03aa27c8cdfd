import Clinical
import Postgres

/// How long patient-level outcomes are kept: sets of runs older than the retention go, and so do extract
/// rosters no remaining set points into. Aggregates (counts, points, pounds) are kept for ever.
public enum PatientOutcomeRetention {
    /// Deletes the outcome sets of runs whose achievement date is before `cutoff`, then the rosters left
    /// unused. Returns the outcome sets deleted.
    public static func purge(before cutoff: Day, in conn: isolated PostgresConnection) throws -> Int {
        let n = try conn.execute(
            "DELETE FROM patient_outcome_set WHERE run_id IN (SELECT id FROM computation_run WHERE achievement_date < \(PostgresDate(cutoff)))")
        try conn.execute(
            """
            DELETE FROM extract_roster r WHERE NOT EXISTS (
                SELECT 1 FROM computation_run c JOIN patient_outcome_set s ON s.run_id = c.id
                WHERE c.extract_id = r.extract_id AND s.positions IS NOT NULL)
            """)
        return n
    }
}
