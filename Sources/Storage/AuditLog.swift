import Clinical
import Foundation
import Postgres

/// The append-only record of who saw or wrote patient-identifiable output (web pages, worklists, call lists,
/// subject-list reports). Every writer of patient-level output records itself here before showing it.
public enum AuditLog {
    /// Appends one entry; `details` travel as a JSON object of strings.
    public static func record(actor: String, action: String, practice: String? = nil, ruleset: String? = nil, achievementDate: Day? = nil,
                              note: String? = nil, details: [String: String] = [:], in conn: isolated PostgresConnection) throws {
        let json = (try? JSONSerialization.data(withJSONObject: details, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try conn.execute(
            """
            INSERT INTO audit_log (actor, action, practice_ods, ruleset_id, achievement_date, note, details)
            VALUES (\(actor), \(action), \(practice), \(ruleset), \(achievementDate.map(PostgresDate.init)), \(note), \(json)::jsonb)
            """)
    }
}

/// Organisations as qofd knows them (practices and PCNs, from extracts or named by accounts).
public enum Organisations {
    public enum Kind: String, Sendable { case practice, pcn }

    /// The kind of a known organisation; nil when qofd has not seen the code.
    public static func kind(of ods: String, in conn: isolated PostgresConnection) throws -> Kind? {
        try conn.query("SELECT kind FROM organisation WHERE ods_code = \(ods)").first.flatMap { Kind(rawValue: try $0.decode(0, as: String.self)) }
    }
}

/// Whether the database answers (the daemon's readiness and its poller's health check).
public enum DatabaseHealth {
    public static func ping(_ conn: isolated PostgresConnection) throws {
        _ = try conn.query("SELECT 1")
    }
}
