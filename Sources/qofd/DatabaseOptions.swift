import ArgumentParser
import Foundation
import Logging
import Postgres
import PostgresCluster

/// Where to find the database; shared by every command that uses one.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL or conninfo string. Default: $QOFD_DATABASE_URL, else the private cluster in the state directory.",
            valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Directory for qofd's own state, including the embedded PostgreSQL cluster. Default: $QOFD_STATE_DIR, $STATE_DIRECTORY, /var/lib/qofd (root) or ~/.local/state/qofd.",
            valueName: "dir"))
    var stateDirectory: String?

    @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    var location: DatabaseLocation {
        let env = ProcessInfo.processInfo.environment
        let state = stateDirectory.map { URL(fileURLWithPath: $0) } ?? DatabaseLocation.defaultStateDirectory()
        return DatabaseLocation(url: databaseURL ?? env["QOFD_DATABASE_URL"], stateDirectory: state)
    }

    /// Opens the database (starting the embedded cluster if needed), runs `body`, then stops the
    /// cluster again if this command started it.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withDatabase { _, connection in try await body(connection) }
    }

    /// As `withConnection`, also handing over the conninfo (for opening more connections).
    func withDatabase<T: Sendable>(_ body: (String, PostgresConnection) async throws -> T) async throws -> T {
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "qofd")
        let (conninfo, cluster) = try await location.open(logger: logger)
        defer { if let cluster { try? cluster.stop() } }
        let connection = try await PostgresConnection.connect(conninfo, logger: Logger(label: "qofd.postgres"))
        do {
            let value = try await body(conninfo, connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
