import Clinical
import Foundation
import Postgres

/// What the web view's declaration pages read: the declaration behind a subject's state, the subjects
/// waiting for a commissioner, and one subject's audit trail. The workflow's changes stay in
/// `DeclarationStore`; these only read.
extension DeclarationStore {
    /// The declaration a subject's state points at: who declared which run, when, with what note.
    public struct Declared: Sendable {
        public var runID: Int64
        public var sha256: String
        public var declaredBy: String
        /// Europe/London wall time, to the minute.
        public var declaredAt: String
        public var note: String?
    }

    /// The current declaration of the subject (nil when nothing has been declared, or it went back).
    public static func declared(_ s: Subject, in conn: isolated PostgresConnection) throws -> Declared? {
        try conn.query(
            """
            SELECT d.run_id, d.snapshot_sha256, d.declared_by, to_char(d.declared_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD HH24:MI'), d.note
            FROM declaration_state st JOIN declaration d ON d.id = st.declaration_id
            WHERE st.practice_ods = \(s.practice) AND st.ruleset_id = \(s.ruleset) AND st.achievement_date = \(PostgresDate(s.achievementDate))
              AND st.state IN ('awaiting_commissioner_approval', 'approved')
            """
        ).first.map { r in
            Declared(runID: try r.decode(0), sha256: try r.decode(1), declaredBy: try r.decode(2), declaredAt: try r.decode(3), note: try r.decode(4))
        }
    }

    /// A declaration waiting for a commissioner.
    public struct Waiting: Sendable {
        public var subject: Subject
        public var practiceName: String
        public var declaredBy: String
        public var declaredAt: String
        /// The subject is a PCN (its Network Contract DES), not a practice.
        public var isPCN: Bool
    }

    /// Every declaration awaiting commissioner approval, oldest first.
    public static func awaitingApproval(in conn: isolated PostgresConnection) throws -> [Waiting] {
        try conn.query(
            """
            SELECT st.practice_ods, st.ruleset_id, st.achievement_date, coalesce(o.name, st.practice_ods), d.declared_by,
                   to_char(d.declared_at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD HH24:MI'), o.kind = 'pcn'
            FROM declaration_state st JOIN declaration d ON d.id = st.declaration_id LEFT JOIN organisation o ON o.ods_code = st.practice_ods
            WHERE st.state = 'awaiting_commissioner_approval'
            ORDER BY d.declared_at, st.practice_ods, st.ruleset_id
            """
        ).compactMap { r in
            let d = try r.decode(2, as: PostgresDate.self)
            guard let day = Day(year: d.year, month: d.month, day: d.day) else { return nil }
            return Waiting(subject: Subject(practice: try r.decode(0), ruleset: try r.decode(1), achievementDate: day),
                           practiceName: try r.decode(3), declaredBy: try r.decode(4), declaredAt: try r.decode(5),
                           isPCN: try r.decode(6, as: Bool?.self) ?? false)
        }
    }

    /// One subject's audit trail (the workflow's steps only), oldest first.
    public static func trail(_ s: Subject, in conn: isolated PostgresConnection) throws -> [AuditEntry] {
        try conn.query(
            """
            SELECT to_char(at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD HH24:MI'), actor, action, practice_ods, ruleset_id,
                   achievement_date::text, from_state, to_state, note, snapshot_sha256
            FROM audit_log
            WHERE practice_ods = \(s.practice) AND ruleset_id = \(s.ruleset) AND achievement_date = \(PostgresDate(s.achievementDate))
              AND action IN ('declare', 'approve', 'return', 'figures-changed', 'figures-changed-after-approval')
            ORDER BY id
            """
        ).map(auditEntry)
    }
}
