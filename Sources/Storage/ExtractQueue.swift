import Clinical
import Postgres

/// The extracts table as a work queue shared by any number of daemons: a worker claims an extract
/// with a lease, renews it while working, and completes it in the same transaction that stores its
/// runs. A lease whose holder died expires and another worker takes the extract over.
public enum ExtractQueue {
    /// What a claim found.
    public enum Claim: Sendable, Equatable {
        /// This worker now holds the lease (a takeover when an earlier holder's lease had expired).
        case claimed(id: Int64, takeover: Bool)
        /// Done before: the extract was processed (or rejected) already.
        case alreadyProcessed(id: Int64)
        case alreadyRejected(id: Int64)
        /// Another worker holds a live lease.
        case busy
    }

    /// Details of an extract, from its manifest.
    public struct Identity: Sendable {
        public var sha256: String
        public var practice: PracticeInfo
        public var sourceName: String
        public var system: String
        public var encoding: String
        public var extractedAt: String
        public var dataTo: Day

        public init(sha256: String, practice: PracticeInfo, sourceName: String, system: String, encoding: String,
                    extractedAt: String, dataTo: Day) {
            self.sha256 = sha256
            self.practice = practice
            self.sourceName = sourceName
            self.system = system
            self.encoding = encoding
            self.extractedAt = extractedAt
            self.dataTo = dataTo
        }
    }

    /// Claims an extract for `worker` for `leaseSeconds` (inside the caller's transaction).
    public static func claim(_ e: Identity, worker: String, leaseSeconds: Int, in conn: isolated PostgresConnection) throws -> Claim {
        try RunStore.recordOrganisations(e.practice, on: e.dataTo, in: conn)
        let lease = "\(leaseSeconds) seconds"
        let inserted = try conn.query(
            """
            INSERT INTO extract (sha256, practice_ods, source_name, clinical_system, encoding, extracted_at, data_to,
                                 status, attempts, lease_owner, lease_until)
            VALUES (\(e.sha256), \(e.practice.ods), \(e.sourceName), \(e.system), \(e.encoding),
                    \(e.extractedAt)::timestamptz, \(PostgresDate(e.dataTo)), 'claimed', 1, \(worker), now() + \(lease)::interval)
            ON CONFLICT (sha256) DO NOTHING
            RETURNING id
            """)
        if let row = inserted.first { return .claimed(id: try row.decode(0), takeover: false) }
        let taken = try conn.query(
            """
            WITH candidate AS MATERIALIZED (
                SELECT id FROM extract
                WHERE sha256 = \(e.sha256) AND status IN ('received', 'claimed')
                  AND (lease_until IS NULL OR lease_until < now())
                FOR UPDATE SKIP LOCKED
            )
            UPDATE extract x SET status = 'claimed', lease_owner = \(worker), lease_until = now() + \(lease)::interval,
                                 attempts = x.attempts + 1
            FROM candidate WHERE x.id = candidate.id
            RETURNING x.id
            """)
        if let row = taken.first { return .claimed(id: try row.decode(0), takeover: true) }
        let existing = try conn.query("SELECT id, status FROM extract WHERE sha256 = \(e.sha256)")
        guard let row = existing.first else { return .busy }
        let id = try row.decode(0, as: Int64.self)
        switch try row.decode(1, as: String.self) {
        case "processed": return .alreadyProcessed(id: id)
        case "rejected": return .alreadyRejected(id: id)
        default: return .busy
        }
    }

    /// Extends the lease; false when it was lost (expired and taken over), in which case the work
    /// must be abandoned without writing results.
    public static func renew(_ id: Int64, worker: String, leaseSeconds: Int, in conn: isolated PostgresConnection) throws -> Bool {
        try conn.execute(
            """
            UPDATE extract SET lease_until = now() + \("\(leaseSeconds) seconds")::interval
            WHERE id = \(id) AND lease_owner = \(worker) AND status = 'claimed'
            """) == 1
    }

    /// Marks the extract processed, guarded by the lease (inside the transaction that stores its runs), and
    /// decides its archive name: the delivery's name, or `NAME.<id>` when another extract of the practice is
    /// archived under that name already. Returns the archive name.
    @discardableResult
    public static func complete(
        _ id: Int64, worker: String, patients: Int, events: Int, medications: Int, in conn: isolated PostgresConnection
    ) throws -> String {
        let rows = try conn.query(
            """
            UPDATE extract x SET status = 'processed', finished_at = now(), lease_owner = NULL, lease_until = NULL,
                               patients = \(patients), events = \(events), medications = \(medications), last_error = NULL,
                               archive_name = CASE WHEN EXISTS (SELECT 1 FROM extract o WHERE o.practice_ods = x.practice_ods
                                                                  AND o.archive_name = x.source_name AND o.id <> x.id)
                                              THEN x.source_name || '.' || x.id ELSE x.source_name END
            WHERE x.id = \(id) AND x.lease_owner = \(worker) AND x.status = 'claimed'
            RETURNING x.archive_name
            """)
        guard let row = rows.first else { throw LeaseLost(extractID: id) }
        return try row.decode(0, as: String.self)
    }

    /// How many times the extract has been claimed.
    public static func attempts(_ id: Int64, in conn: isolated PostgresConnection) throws -> Int {
        try conn.query("SELECT attempts FROM extract WHERE id = \(id)").first?.decode(0, as: Int.self) ?? 0
    }

    /// Each practice's latest processed extract (by data-to date) and where it is archived: what a nightly
    /// recomputation reads back.
    public static func latestProcessed(in conn: isolated PostgresConnection) throws -> [(id: Int64, practice: String, archiveName: String)] {
        try conn.query(
            """
            SELECT DISTINCT ON (practice_ods) id, practice_ods, coalesce(archive_name, source_name)
            FROM extract WHERE status = 'processed'
            ORDER BY practice_ods, data_to DESC, id DESC
            """
        ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
    }

    /// Where a processed extract is archived (`archive/<ODS>/<name>`); nil when it has no archive name.
    public static func archiveName(_ id: Int64, in conn: isolated PostgresConnection) throws -> String? {
        try conn.query("SELECT archive_name FROM extract WHERE id = \(id)").first.flatMap { try $0.decode(0, as: String?.self) }
    }

    /// A rejected extract delivered again and now whole (its files match its manifest): back to the queue,
    /// so a correct re-delivery after a damaged one is processed rather than refused for ever.
    public static func reopenRejected(_ id: Int64, in conn: isolated PostgresConnection) throws -> Bool {
        try conn.execute(
            """
            UPDATE extract SET status = 'received', finished_at = NULL, last_error = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = \(id) AND status = 'rejected'
            """) == 1
    }

    /// Text made storable: PostgreSQL text cannot hold NUL, so it (and any control character but tab and line
    /// breaks) is written as `\u{…}`.
    static func storable(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            out += (s.value < 32 && s.value != 9 && s.value != 10 && s.value != 13) || s.value == 127 ? "\\u{\(String(s.value, radix: 16))}" : String(s)
        }
        return out
    }

    /// Marks the extract rejected with a summary of why, guarded by the lease.
    public static func reject(_ id: Int64, worker: String, reason: String, in conn: isolated PostgresConnection) throws {
        let reason = storable(reason)
        let n = try conn.execute(
            """
            UPDATE extract SET status = 'rejected', finished_at = now(), lease_owner = NULL, lease_until = NULL,
                               last_error = \(reason)
            WHERE id = \(id) AND lease_owner = \(worker) AND status = 'claimed'
            """)
        guard n == 1 else { throw LeaseLost(extractID: id) }
    }

    /// Gives a claimed extract back (e.g. on shutdown) so another worker can take it at once.
    public static func release(_ id: Int64, worker: String, error: String?, in conn: isolated PostgresConnection) throws {
        let error = error.map(storable)
        try conn.execute(
            """
            UPDATE extract SET status = 'received', lease_owner = NULL, lease_until = NULL, last_error = \(error)
            WHERE id = \(id) AND lease_owner = \(worker) AND status = 'claimed'
            """)
    }
}

/// The lease on an extract was lost (another worker took it over): the work is abandoned.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public let extractID: Int64
    public init(extractID: Int64) { self.extractID = extractID }
    public var description: String { "lost the lease on extract \(extractID); another worker has it" }
}
