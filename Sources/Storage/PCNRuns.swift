import Clinical
import Foundation
import Postgres

/// A PCN's DES runs: which practices were members on an achievement date, their latest runs to sum, and
/// (once the PCN's own run is stored) which member runs it was made from. The summing and the pounds are
/// the Payments module's; this only reads and records.
public enum PCNRuns {
    /// A member practice's latest run of the ruleset for the date.
    public struct MemberRun: Sendable, Hashable {
        public var practice: String
        public var runID: Int64
    }

    /// The PCN's members on `day` (effective-dated membership) with their latest run of `ruleset` for that
    /// achievement date; members without one are left out (they have sent no extract yet).
    public static func memberRuns(pcn: String, ruleset: String, achievementDate day: Day, in conn: isolated PostgresConnection) throws -> [MemberRun] {
        try conn.query(
            """
            SELECT m.practice_ods,
                   (SELECT c.id FROM computation_run c
                    WHERE c.practice_ods = m.practice_ods AND c.ruleset_id = \(ruleset) AND c.achievement_date = \(PostgresDate(day))
                      AND c.source <> 'pcn'
                    ORDER BY c.id DESC LIMIT 1)
            FROM pcn_membership m
            WHERE m.pcn_ods = \(pcn) AND m.valid_from <= \(PostgresDate(day)) AND (m.valid_to IS NULL OR m.valid_to >= \(PostgresDate(day)))
            ORDER BY m.practice_ods
            """
        ).compactMap { row in
            guard let run = try row.decode(1, as: Int64?.self) else { return nil }
            return MemberRun(practice: try row.decode(0), runID: run)
        }
    }

    /// Records which member runs a stored PCN run was summed from.
    public static func recordMembers(of runID: Int64, _ members: [MemberRun], in conn: isolated PostgresConnection) throws {
        for m in members {
            try conn.execute("INSERT INTO pcn_run_member (run_id, practice_ods, member_run_id) VALUES (\(runID), \(m.practice), \(m.runID))")
        }
    }

    /// The member runs a PCN run was summed from.
    public static func members(of runID: Int64, in conn: isolated PostgresConnection) throws -> [MemberRun] {
        try conn.query("SELECT practice_ods, member_run_id FROM pcn_run_member WHERE run_id = \(runID) ORDER BY practice_ods")
            .map { MemberRun(practice: try $0.decode(0), runID: try $0.decode(1)) }
    }

    /// The PCN's name (its code when unknown).
    public static func name(of pcn: String, in conn: isolated PostgresConnection) throws -> String {
        try conn.query("SELECT name FROM organisation WHERE ods_code = \(pcn)").first.map { try $0.decode(0, as: String.self) } ?? pcn
    }

    /// Stores the run unless the subject's latest run for the ruleset and date has the same figures (a week in
    /// which no member's figures changed stores nothing new). Returns the new run's id, or nil when unchanged.
    public static func storeIfChanged(_ run: RunRecord, in conn: isolated PostgresConnection) throws -> Int64? {
        // The fingerprint `RunStore.store` will record (last year's pounds included, as it reads them).
        let (lastYear, aspiration) = try RunStore.lastYear(of: run, in: conn)
        let fingerprint = RunStore.figuresFingerprint(run, lastYearPounds: lastYear, aspiration: aspiration)
        let latest = try conn.query(
            """
            SELECT figures_sha256 FROM computation_run
            WHERE practice_ods = \(run.practice.ods) AND ruleset_id = \(run.rulesetID) AND achievement_date = \(PostgresDate(run.achievementDate))
            ORDER BY id DESC LIMIT 1
            """
        ).first.map { try $0.decode(0, as: String?.self) } ?? nil
        guard latest != fingerprint else { return nil }
        return try RunStore.store(run, in: conn, source: "pcn")
    }
}
