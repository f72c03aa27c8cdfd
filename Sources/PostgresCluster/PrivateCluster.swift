import Foundation
import Logging
import Postgres

/// A PostgreSQL cluster that qofd owns, under its state directory, reachable only through a unix
/// socket in a private directory (no TCP).
///
/// This is the embedded default: with no database configured, `qofd` creates the cluster on first
/// use, reuses it afterwards, and stops it when the command that started it exits. The test
/// harness uses the same type for its throwaway cluster. When run as root the server runs as the
/// `postgres` system user, because PostgreSQL refuses to run as root.
public final class PrivateCluster: Sendable {
    /// `<directory>/data` holds the cluster, `<directory>/run` its socket, `<directory>/server.log` its log.
    public let directory: URL
    /// The database qofd uses inside the cluster.
    public let database: String
    /// The superuser `initdb` creates; connections use it over the private socket.
    public let user = "qofd"
    private let binaries: ServerBinaries
    private let settings: [String: String]
    private let logger: Logger
    private let runAs: SystemUser?

    /// - Parameters:
    ///   - directory: where the cluster lives; created when missing.
    ///   - database: the database to create and connect to.
    ///   - settings: extra server settings (`-c name=value`), e.g. `fsync=off` for tests.
    public init(
        directory: URL, database: String = "qofd", settings: [String: String] = [:],
        logger: Logger = Logger(label: "qofd.cluster")
    ) throws {
        self.directory = directory.standardizedFileURL
        self.database = database
        self.settings = settings
        self.logger = logger
        self.binaries = try ServerBinaries.locate()
        self.runAs = geteuid() == 0 ? try SystemUser.named("postgres") : nil
    }

    public var dataDirectory: URL { directory.appending(path: "data") }
    public var socketDirectory: URL { directory.appending(path: "run") }
    public var logFile: URL { directory.appending(path: "server.log") }

    /// libpq connection string for `database` (or another database in the same cluster).
    public func conninfo(database: String? = nil) -> String {
        "host='\(socketDirectory.path)' port=5432 user=\(user) dbname='\(database ?? self.database)' connect_timeout=10"
    }

    /// True when a server is running on this cluster's data directory.
    public func isRunning() -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) else {
            return false
        }
        return (try? run(binaries.pgCtl, ["status", "-D", dataDirectory.path]).status) == 0
    }

    /// Creates the cluster if needed and starts the server if it is not running.
    /// - Returns: true when this call started the server (so the caller should stop it later).
    @discardableResult
    public func start() throws -> Bool {
        try prepareDirectories()
        if !FileManager.default.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) {
            try initialise()
        }
        if isRunning() {
            logger.debug("private PostgreSQL cluster already running", metadata: ["dir": "\(directory.path)"])
            return false
        }
        var options = [
            "-c listen_addresses=''",
            "-c unix_socket_directories='\(socketDirectory.path)'",
            "-c unix_socket_permissions=0700",
            "-c port=5432",
        ]
        options += settings.sorted { $0.key < $1.key }.map { "-c \($0.key)=\($0.value)" }
        let result = try run(
            binaries.pgCtl,
            ["start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "120", "-o", options.joined(separator: " ")])
        guard result.status == 0 else {
            throw ClusterError(
                "could not start the private PostgreSQL server in \(dataDirectory.path): \(result.output)\n"
                    + "see \(logFile.path)")
        }
        logger.info("started private PostgreSQL cluster", metadata: ["dir": "\(directory.path)"])
        return true
    }

    /// Stops the server (fast shutdown: active transactions roll back).
    public func stop(mode: String = "fast") throws {
        guard isRunning() else { return }
        let result = try run(binaries.pgCtl, ["stop", "-D", dataDirectory.path, "-m", mode, "-w", "-t", "120"])
        guard result.status == 0 else { throw ClusterError("could not stop the private PostgreSQL server: \(result.output)") }
        logger.info("stopped private PostgreSQL cluster", metadata: ["dir": "\(directory.path)"])
    }

    /// Stops the server if running and deletes the whole directory.
    public func destroy() throws {
        try? stop(mode: "immediate")
        try FileManager.default.removeItem(at: directory)
    }

    private func prepareDirectories() throws {
        let fm = FileManager.default
        // The socket path must fit in sockaddr_un (107 bytes with the ".s.PGSQL.5432" name).
        let socketPath = socketDirectory.appending(path: ".s.PGSQL.5432").path
        guard socketPath.utf8.count <= 107 else {
            throw ClusterError(
                "the state directory \(directory.path) is too deep for a unix socket path; choose a shorter one")
        }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(at: socketDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let runAs {
            try runAs.assertCanReach(directory)
            for url in [directory, socketDirectory] { try runAs.chown(url) }
            if fm.fileExists(atPath: logFile.path) { try runAs.chown(logFile) }
        }
    }

    private func initialise() throws {
        logger.info("creating private PostgreSQL cluster", metadata: ["dir": "\(dataDirectory.path)"])
        let result = try run(binaries.initdb, [
            "-D", dataDirectory.path, "-U", user, "--auth=trust", "--encoding=UTF8", "--locale=C",
            "--no-instructions",
        ])
        guard result.status == 0 else {
            throw ClusterError("initdb failed for \(dataDirectory.path): \(result.output)")
        }
    }

    /// Creates `name` if it does not exist yet (connecting to the `postgres` maintenance database).
    public func createDatabaseIfMissing(_ name: String? = nil) async throws {
        let name = name ?? database
        let admin = try await PostgresConnection.connect(conninfo(database: "postgres"), logger: logger)
        try await admin.createDatabaseIfMissing(name)
        await admin.close()
    }

    /// Runs a server program, as the `postgres` user when we are root.
    private func run(_ program: String, _ arguments: [String]) throws -> Subprocess.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        // `env -C /`: the server user may not be able to enter our working directory.
        let command = ["-C", "/", program] + arguments
        if let runAs {
            return try Subprocess.run("/usr/sbin/runuser", ["-u", runAs.name, "--", "/usr/bin/env"] + command, environment: environment)
        }
        return try Subprocess.run("/usr/bin/env", command, environment: environment)
    }
}
