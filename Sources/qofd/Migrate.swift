import ArgumentParser
import Postgres
import Storage

/// `qofd migrate`: applies pending schema migrations, then prints the schema status.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (safe to run at any time, and from several processes).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let states = try await database.withConnection { connection in
            let migrator = Migrator()
            let applied = try await migrator.migrate(on: connection)
            print(applied.isEmpty ? "Schema is up to date." : "Applied \(applied.count) migration(s).")
            return try await migrator.status(on: connection)
        }
        printSchemaStatus(states)
    }
}

/// `qofd status`: where the database is and which migrations it has.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the database location and schema status.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        switch database.location {
        case .url: print("Database: configured URL")
        case .embedded(let dir): print("Database: private cluster in \(dir.appending(path: "postgres").path)")
        }
        let (version, states) = try await database.withConnection { connection in
            (await connection.serverVersion, try await Migrator().status(on: connection))
        }
        print("PostgreSQL server \(version / 10000).\(version % 10000)")
        printSchemaStatus(states)
    }
}

func printSchemaStatus(_ states: [Migrator.State]) {
    print("")
    print("  version  status   applied at           name")
    for s in states {
        let version = String(repeating: " ", count: max(0, 7 - String(s.version).count)) + String(s.version)
        let status = s.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        let at = (s.appliedAt ?? "-").padding(toLength: 20, withPad: " ", startingAt: 0)
        print("  \(version)  \(status) \(at) \(s.name)")
    }
    let pending = states.filter { $0.status == .pending }.count
    print("")
    print("\(states.count - pending) applied, \(pending) pending.")
}
