import Logging
import Postgres

/// Applies pending migrations in order, each in its own transaction, and records them in
/// `schema_migrations` with their checksum.
///
/// A session advisory lock serialises migrators: a second process waits, then finds nothing to do.
/// The lock goes with the connection, so a killed migrator never leaves it held. A file whose
/// checksum differs from the recorded one, or a database migrated by a newer qofd, stops the run.
public struct Migrator: Sendable {
    /// The advisory lock key ("qofdmigr" in ASCII).
    public static let lockKey: Int64 = 0x716F_6664_6D69_6772

    public let migrations: [Migration]
    public let logger: Logger

    public init(migrations: [Migration] = Migration.embedded, logger: Logger = Logger(label: "qofd.migrate")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Where each known migration stands in a database.
    public struct State: Sendable, Hashable {
        public enum Status: String, Sendable { case applied, pending, changed, unknown }
        public let version: Int
        public let name: String
        public let status: Status
        public let appliedAt: String?
    }

    /// Applies every pending migration. Returns the ones applied by this call.
    @discardableResult
    public func migrate(on connection: isolated PostgresConnection) throws -> [Migration] {
        try connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer {
            if connection.isConnected {
                _ = try? connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
            }
        }
        // Nothing to create when the database is migrated already: the daemon role (which may not create
        // tables) starts on a database its owner migrated.
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].decode(0, as: Bool.self)
        if !exists {
            try connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                duration_ms integer NOT NULL DEFAULT 0
            )
            """)
        }
        let applied = try appliedRows(on: connection)
        try verify(applied)
        let done = Set(applied.map(\.version))
        var newlyApplied: [Migration] = []
        for migration in migrations where !done.contains(migration.version) {
            let started = ContinuousClock.now
            let script = migration.sql
            let version = migration.version, name = migration.name, checksum = migration.checksum
            do {
                try connection.withTransaction { conn in
                    try conn.executeScript(script)
                    let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
                    try conn.execute(
                        """
                        INSERT INTO schema_migrations (version, name, checksum, duration_ms)
                        VALUES (\(version), \(name), \(checksum), \(ms))
                        """)
                }
            } catch let error as PostgresError where error.sqlState == "42501" {
                throw MigrationError(
                    "migration \(migration.version) (\(migration.name)) is pending and this database role may not apply it: "
                        + "run `qofd migrate` as the schema owner, then start qofd again")
            } catch let error as PostgresError {
                throw MigrationError(
                    "migration \(migration.version) (\(migration.name)) failed and was rolled back: \(error)")
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            newlyApplied.append(migration)
        }
        try grantRoles(on: connection)
        return newlyApplied
    }

    /// The embedded cluster's split: creates the daemon and reader roles (no superuser, no password: the cluster is
    /// reachable only through its private socket) and grants them, so `qofd serve` never works as a superuser.
    public func ensureRoles(daemon: String = "qofd_daemon", reader: String = "qofd_reader", on connection: isolated PostgresConnection) throws {
        for role in [daemon, reader] {
            let exists = try connection.query("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(role))")[0].decode(0, as: Bool.self)
            if !exists {
                guard role.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else { throw MigrationError("bad role name \(role)") }
                try connection.executeScript("CREATE ROLE \(role) LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
            }
        }
        try grantRoles(daemon: daemon, reader: reader, on: connection)
    }

    /// As the schema owner: (re)grants the daemon and reader roles (`qofd_daemon`, `qofd_reader` unless named
    /// otherwise) what they need, so tables added by new migrations are covered. Nothing for other roles.
    public func grantRoles(daemon: String = "qofd_daemon", reader: String = "qofd_reader", on connection: isolated PostgresConnection) throws {
        let row = try connection.query(
            """
            SELECT to_regprocedure('qofd_grant(text,text)') IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(daemon)) AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(reader))
                   AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                        OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = to_regclass('computation_run')), 'MEMBER')
            """)[0]
        guard try row.decode(0, as: Bool?.self) == true,
            try connection.query("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(daemon)) AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(reader))")[0]
                .decode(0, as: Bool.self)
        else { return }
        try connection.query("SELECT qofd_grant(\(daemon), \(reader))")
    }

    /// Reports applied, pending and changed migrations without changing anything.
    public func status(on connection: isolated PostgresConnection) throws -> [State] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        let applied = try exists[0].decode(0, as: Bool.self) ? try appliedRows(on: connection) : []
        let byVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        var states = migrations.map { m -> State in
            guard let row = byVersion[m.version] else {
                return State(version: m.version, name: m.name, status: .pending, appliedAt: nil)
            }
            return State(
                version: m.version, name: m.name, status: row.checksum == m.checksum ? .applied : .changed,
                appliedAt: row.appliedAt)
        }
        let known = Set(migrations.map(\.version))
        for row in applied where !known.contains(row.version) {
            states.append(State(version: row.version, name: row.name, status: .unknown, appliedAt: row.appliedAt))
        }
        return states.sorted { $0.version < $1.version }
    }

    struct AppliedRow {
        let version: Int
        let name: String
        let checksum: String
        let appliedAt: String
    }

    private func appliedRows(on connection: isolated PostgresConnection) throws -> [AppliedRow] {
        try connection.query(
            "SELECT version, name, checksum, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS') FROM schema_migrations ORDER BY version"
        ).map { row in
            AppliedRow(
                version: try row.decode(0), name: try row.decode(1), checksum: try row.decode(2),
                appliedAt: try row.decode(3))
        }
    }

    private func verify(_ applied: [AppliedRow]) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for row in applied {
            guard let migration = known[row.version] else {
                throw MigrationError(
                    "the database has migration \(row.version) (\(row.name)), which this qofd does not know: "
                        + "it was migrated by a newer version; upgrade qofd instead")
            }
            guard migration.checksum == row.checksum else {
                throw MigrationError(
                    "migration \(row.version) (\(row.name)) has changed since it was applied "
                        + "(recorded checksum \(row.checksum.prefix(12))…, file \(migration.checksum.prefix(12))…); "
                        + "applied migrations must never be edited: restore the file and add a new migration")
            }
        }
    }
}

/// A migration run that had to stop, with a message for a person.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
