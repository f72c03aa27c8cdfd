import Clinical
import Crypto
import Foundation
import Postgres

/// The CQRS-style declaration workflow: a practice declares the figures of its latest run (frozen as
/// an immutable snapshot with a content hash), the commissioner approves or returns them, and a later
/// run that changes any figure sends the achievement back to the practice. Every action is written
/// to the append-only audit log in the same transaction as the state change.
public enum DeclarationStore {
    public enum State: String, Sendable, Codable {
        case awaitingPracticeDeclaration = "awaiting_practice_declaration"
        case awaitingCommissionerApproval = "awaiting_commissioner_approval"
        case approved
        case returned

        public var words: String { words(pcn: false) }

        /// The state in words, naming who declares: the practice, or the PCN for its Network Contract DES.
        public func words(pcn: Bool) -> String {
            let declarer = pcn ? "PCN" : "practice"
            switch self {
            case .awaitingPracticeDeclaration: return "awaiting \(declarer) declaration"
            case .awaitingCommissionerApproval: return "awaiting commissioner approval"
            case .approved: return "approved"
            case .returned: return "returned to the \(declarer)"
            }
        }
    }

    /// Which achievement: a practice, a ruleset, an achievement date.
    public struct Subject: Sendable, Hashable {
        public var practice: String
        public var ruleset: String
        public var achievementDate: Day
        public init(practice: String, ruleset: String, achievementDate: Day) {
            self.practice = practice
            self.ruleset = ruleset
            self.achievementDate = achievementDate
        }
    }

    /// The frozen figures of one run, as canonical JSON (sorted keys) and their SHA-256.
    public struct Snapshot: Sendable {
        public var runID: Int64
        public var json: Data
        public var sha256: String
    }

    /// A run's figures as its snapshot carries them (numbers as the database's text), for readers that
    /// need the figures but not the canonical bytes.
    public struct RunFigures: Sendable {
        public struct Indicator: Sendable {
            public var id: String
            public var registerSize: Int
            public var denominator: Int
            public var numerator: Int
            public var achievement: String?
            public var points: String?
            public var maxPoints: String?
            public var pounds: String?
            public var fields: [String: Int]
        }
        public var runID: Int64
        public var listSize: Int
        public var indicators: [Indicator]
    }

    /// An action refused because the achievement is in the wrong state (or the request is incomplete).
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The current state (awaiting practice declaration when nothing has happened yet).
    public static func state(_ s: Subject, in conn: isolated PostgresConnection) throws -> State {
        let rows = try conn.query(
            """
            SELECT state FROM declaration_state
            WHERE practice_ods = \(s.practice) AND ruleset_id = \(s.ruleset) AND achievement_date = \(PostgresDate(s.achievementDate))
            """)
        guard let row = rows.first else { return .awaitingPracticeDeclaration }
        return State(rawValue: try row.decode(0, as: String.self)) ?? .awaitingPracticeDeclaration
    }

    /// The figures of the practice's latest run for the subject (nil when there is no run).
    public static func latestFigures(_ s: Subject, in conn: isolated PostgresConnection) throws -> RunFigures? {
        let runs = try conn.query(
            """
            SELECT id, list_size FROM computation_run
            WHERE practice_ods = \(s.practice) AND ruleset_id = \(s.ruleset) AND achievement_date = \(PostgresDate(s.achievementDate))
            ORDER BY id DESC LIMIT 1
            """)
        guard let run = runs.first else { return nil }
        let runID = try run.decode(0, as: Int64.self)
        let rows = try conn.query(
            """
            SELECT indicator_id, coalesce(register_size, 0), denominator, numerator, achievement::text, points::text, max_points::text,
                   pounds::text FROM indicator_result WHERE run_id = \(runID) ORDER BY indicator_id
            """)
        let fields = try conn.query(
            """
            SELECT indicator_id, field_name, value FROM rule_count
            WHERE run_id = \(runID) AND field_kind IN ('pca', 'exclusion', 'select', 'reject') AND field_name !~ '^(DEN|NUM)[0-9]+_'
            ORDER BY indicator_id, field_name
            """)
        var byIndicator: [String: [String: Int]] = [:]
        for f in fields { byIndicator[try f.decode(0, as: String.self), default: [:]][try f.decode(1, as: String.self)] = try f.decode(2, as: Int.self) }
        let indicators = try rows.map { r in
            let id = try r.decode(0, as: String.self)
            return RunFigures.Indicator(
                id: id, registerSize: try r.decode(1, as: Int.self), denominator: try r.decode(2, as: Int.self),
                numerator: try r.decode(3, as: Int.self), achievement: try r.decode(4, as: String?.self), points: try r.decode(5, as: String?.self),
                maxPoints: try r.decode(6, as: String?.self), pounds: try r.decode(7, as: String?.self), fields: byIndicator[id] ?? [:])
        }
        return RunFigures(runID: runID, listSize: try run.decode(1, as: Int.self), indicators: indicators)
    }

    /// The canonical snapshot of the practice's latest run for the subject. Its bytes (and so its hash)
    /// must never change for the same figures: declared snapshots are compared by hash.
    public static func latestSnapshot(_ s: Subject, in conn: isolated PostgresConnection) throws -> Snapshot? {
        guard let figures = try latestFigures(s, in: conn) else { return nil }
        let indicators: [[String: Any]] = figures.indicators.map { i in
            [
                "id": i.id, "registerSize": i.registerSize, "denominator": i.denominator, "numerator": i.numerator,
                "achievement": i.achievement ?? NSNull(), "points": i.points ?? NSNull(), "maxPoints": i.maxPoints ?? NSNull(),
                "pounds": i.pounds ?? NSNull(), "fields": i.fields,
            ]
        }
        let object: [String: Any] = [
            "practice": s.practice, "ruleset": s.ruleset, "achievementDate": s.achievementDate.description,
            "listSize": figures.listSize, "indicators": indicators,
        ]
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Snapshot(runID: figures.runID, json: json, sha256: SHA256.hash(data: json).map { String(format: "%02x", $0) }.joined())
    }

    private static func setState(_ s: Subject, _ state: State, declaration: Int64?, in conn: isolated PostgresConnection) throws {
        try conn.execute(
            """
            INSERT INTO declaration_state (practice_ods, ruleset_id, achievement_date, state, declaration_id)
            VALUES (\(s.practice), \(s.ruleset), \(PostgresDate(s.achievementDate)), \(state.rawValue), \(declaration))
            ON CONFLICT (practice_ods, ruleset_id, achievement_date)
            DO UPDATE SET state = EXCLUDED.state, declaration_id = coalesce(EXCLUDED.declaration_id, declaration_state.declaration_id),
                          updated_at = now()
            """)
    }

    private static func audit(
        _ s: Subject, actor: String, action: String, from: State?, to: State?, note: String?, sha: String?, details: String = "{}",
        in conn: isolated PostgresConnection
    ) throws {
        try conn.execute(
            """
            INSERT INTO audit_log (actor, action, practice_ods, ruleset_id, achievement_date, from_state, to_state, note,
                                   snapshot_sha256, details)
            VALUES (\(actor), \(action), \(s.practice), \(s.ruleset), \(PostgresDate(s.achievementDate)), \(from?.rawValue),
                    \(to?.rawValue), \(note), \(sha), \(details)::jsonb)
            """)
    }

    /// The practice declares the latest figures. Refused when already declared or approved, when there is
    /// no run to declare, or when some indicator rests on missing code lists and the declarer has not said
    /// they accept it (`acceptIncomplete`, recorded in the audit log with the indicators). With `seenRun`, also
    /// refused when a newer run arrived since the declarer looked at that one.
    @discardableResult
    public static func declare(_ s: Subject, by: String, note: String?, acceptIncomplete: Bool = false, seenRun: Int64? = nil,
                               in conn: isolated PostgresConnection) throws -> Snapshot {
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refused(description: "say who is declaring (--by)") }
        let current = try state(s, in: conn)
        guard current == .awaitingPracticeDeclaration || current == .returned else {
            throw Refused(description: "cannot declare: the achievement is \(current.words)")
        }
        guard let snapshot = try latestSnapshot(s, in: conn) else {
            throw Refused(description: "cannot declare: no computed run for \(s.practice) \(s.ruleset) on \(s.achievementDate)")
        }
        // The Network Contract DES pays the PCN: the PCN declares the summed figures, never a member practice its own.
        let subjectKind = try conn.query(
            """
            SELECT o.kind, c.ruleset_family FROM computation_run c JOIN organisation o ON o.ods_code = c.practice_ods WHERE c.id = \(snapshot.runID)
            """
        ).first.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String?.self)) }
        if let (kind, family) = subjectKind, family == "des", kind != "pcn" {
            throw Refused(description: "cannot declare: the Network Contract DES is declared by the PCN for its member practices together, not by a practice")
        }
        if let seenRun, seenRun != snapshot.runID {
            throw Refused(description: "the figures changed since you opened this page (a newer run arrived); review them and declare again")
        }
        let incomplete = try conn.query(
            """
            SELECT indicator_id FROM indicator_result WHERE run_id = \(snapshot.runID) AND completeness = 'missing' ORDER BY indicator_id
            """
        ).map { try $0.decode(0, as: String.self) }
        if !incomplete.isEmpty && !acceptIncomplete {
            throw Refused(description: "cannot declare: \(incomplete.count) indicator(s) rest on missing code lists (\(incomplete.joined(separator: ", "))); "
                + "import the official clusters (`qofd clusters import`), or declare with --accept-incomplete to accept these figures as they are")
        }
        let rows = try conn.query(
            """
            INSERT INTO declaration (practice_ods, ruleset_id, achievement_date, run_id, state, snapshot, snapshot_sha256, declared_by, note)
            VALUES (\(s.practice), \(s.ruleset), \(PostgresDate(s.achievementDate)), \(snapshot.runID), 'awaiting_commissioner_approval',
                    \(String(decoding: snapshot.json, as: UTF8.self))::jsonb, \(snapshot.sha256), \(by), \(note))
            RETURNING id
            """)
        try setState(s, .awaitingCommissionerApproval, declaration: try rows[0].decode(0, as: Int64.self), in: conn)
        let details = String(decoding: try JSONSerialization.data(
            withJSONObject: ["acceptedIncomplete": incomplete, "run": snapshot.runID] as [String: Any], options: [.sortedKeys]), as: UTF8.self)
        try audit(s, actor: by, action: "declare", from: current, to: .awaitingCommissionerApproval, note: note, sha: snapshot.sha256,
                  details: details, in: conn)
        return snapshot
    }

    /// The commissioner approves a declared achievement (with `seenSnapshot`, only the declaration they looked at).
    public static func approve(_ s: Subject, by: String, note: String?, seenSnapshot: String? = nil, in conn: isolated PostgresConnection) throws {
        let current = try state(s, in: conn)
        guard current == .awaitingCommissionerApproval else {
            throw Refused(description: "cannot approve: the achievement is \(current.words), not awaiting commissioner approval")
        }
        try check(seenSnapshot, s, in: conn)
        try setState(s, .approved, declaration: nil, in: conn)
        try audit(s, actor: by, action: "approve", from: current, to: .approved, note: note, sha: try declaredSHA(s, in: conn), in: conn)
    }

    /// The commissioner returns a declaration to the practice, with a reason.
    public static func returnToPractice(_ s: Subject, by: String, reason: String, seenSnapshot: String? = nil,
                                        in conn: isolated PostgresConnection) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refused(description: "a return needs a reason (--reason)") }
        let current = try state(s, in: conn)
        guard current == .awaitingCommissionerApproval else {
            throw Refused(description: "cannot return: the achievement is \(current.words), not awaiting commissioner approval")
        }
        try check(seenSnapshot, s, in: conn)
        try setState(s, .returned, declaration: nil, in: conn)
        try audit(s, actor: by, action: "return", from: current, to: .returned, note: reason, sha: try declaredSHA(s, in: conn), in: conn)
    }

    /// After a new run: if the figures differ from those declared, a declaration awaiting approval goes
    /// back to the practice (and an approved one is flagged). Returns the indicators that changed.
    @discardableResult
    public static func checkForChanges(_ s: Subject, actor: String, in conn: isolated PostgresConnection) throws -> [String] {
        let current = try state(s, in: conn)
        guard current == .awaitingCommissionerApproval || current == .approved, let declared = try declaredSnapshot(s, in: conn),
            let latest = try latestSnapshot(s, in: conn), latest.sha256 != declared.sha256
        else { return [] }
        let changed = changedIndicators(declared.json, latest.json)
        let details = String(decoding: try JSONSerialization.data(withJSONObject: ["changed": changed, "run": latest.runID], options: [.sortedKeys]), as: UTF8.self)
        if current == .awaitingCommissionerApproval {
            try setState(s, .awaitingPracticeDeclaration, declaration: nil, in: conn)
            try audit(s, actor: actor, action: "figures-changed", from: current, to: .awaitingPracticeDeclaration,
                      note: "a later run changed \(changed.joined(separator: ", ")); declare again", sha: latest.sha256, details: details, in: conn)
        } else {
            try audit(s, actor: actor, action: "figures-changed-after-approval", from: current, to: current,
                      note: "a later run changed \(changed.joined(separator: ", ")) after approval", sha: latest.sha256, details: details, in: conn)
        }
        return changed
    }

    /// Refuses when the declaration is no longer the one with the snapshot hash the actor looked at.
    private static func check(_ seenSnapshot: String?, _ s: Subject, in conn: isolated PostgresConnection) throws {
        guard let seenSnapshot else { return }
        guard try declaredSHA(s, in: conn) == seenSnapshot else {
            throw Refused(description: "the declaration changed since you opened this page; review it again")
        }
    }

    static func declaredSHA(_ s: Subject, in conn: isolated PostgresConnection) throws -> String? {
        try declaredSnapshot(s, in: conn)?.sha256
    }

    /// The snapshot of the current declaration.
    public static func declaredSnapshot(_ s: Subject, in conn: isolated PostgresConnection) throws -> Snapshot? {
        let rows = try conn.query(
            """
            SELECT d.run_id, d.snapshot::text, d.snapshot_sha256 FROM declaration_state st JOIN declaration d ON d.id = st.declaration_id
            WHERE st.practice_ods = \(s.practice) AND st.ruleset_id = \(s.ruleset) AND st.achievement_date = \(PostgresDate(s.achievementDate))
            """)
        guard let r = rows.first else { return nil }
        // jsonb reorders keys; re-serialise canonically so the hash check and the report are stable.
        let object = try JSONSerialization.jsonObject(with: Data(try r.decode(1, as: String.self).utf8))
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Snapshot(runID: try r.decode(0), json: json, sha256: try r.decode(2))
    }

    static func changedIndicators(_ a: Data, _ b: Data) -> [String] {
        func map(_ d: Data) -> [String: String] {
            guard let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any], let list = o["indicators"] as? [[String: Any]] else { return [:] }
            var out: [String: String] = [:]
            for i in list {
                let data = (try? JSONSerialization.data(withJSONObject: i, options: [.sortedKeys])) ?? Data()
                out[i["id"] as? String ?? ""] = String(decoding: data, as: UTF8.self)
            }
            return out
        }
        let x = map(a)
        let y = map(b)
        return Set(x.keys).union(y.keys).filter { x[$0] != y[$0] }.sorted()
    }

    /// The audit trail, oldest first.
    public struct AuditEntry: Sendable, Codable {
        public var at: String
        public var actor: String
        public var action: String
        public var practice: String?
        public var ruleset: String?
        public var achievementDate: String?
        public var from: String?
        public var to: String?
        public var note: String?
        public var sha256: String?
    }

    public static func auditTrail(practice: String?, in conn: isolated PostgresConnection) throws -> [AuditEntry] {
        try conn.query(
            """
            SELECT to_char(at AT TIME ZONE 'Europe/London', 'YYYY-MM-DD HH24:MI:SS'), actor, action, practice_ods, ruleset_id,
                   achievement_date::text, from_state, to_state, note, snapshot_sha256
            FROM audit_log WHERE \(practice)::text IS NULL OR practice_ods = \(practice)::text ORDER BY id
            """
        ).map(auditEntry)
    }

    /// An audit row as read by both trails (when, actor, action, subject, states, note, snapshot hash).
    static func auditEntry(_ r: PostgresRow) throws -> AuditEntry {
        AuditEntry(at: try r.decode(0), actor: try r.decode(1), action: try r.decode(2), practice: try r.decode(3), ruleset: try r.decode(4),
                   achievementDate: try r.decode(5), from: try r.decode(6), to: try r.decode(7), note: try r.decode(8), sha256: try r.decode(9))
    }
}
