import Foundation
import Postgres
import Storage
import Testing
import TestSupport

@Suite("Schema migrations")
struct MigratorTests {
    @Test("migrating twice applies everything once and then nothing")
    func idempotent() async throws {
        let conn = try await TestDatabase.connect()
        let first = try await Migrator().migrate(on: conn)
        #expect(first.count == Migration.embedded.count)
        let second = try await Migrator().migrate(on: conn)
        #expect(second.isEmpty)
        let states = try await Migrator().status(on: conn)
        #expect(states.allSatisfy { $0.status == .applied })
        let rows = try await conn.query("SELECT count(*) FROM schema_migrations")
        #expect(try rows[0].decode(0, as: Int.self) == Migration.embedded.count)
    }

    @Test("a second migrator waits for the lock, then finds nothing to do")
    func concurrentMigratorsWait() async throws {
        let conninfo = try await TestDatabase.fresh()
        let holder = try await PostgresConnection.connect(conninfo)
        try await holder.query("SELECT pg_advisory_lock(\(Migrator.lockKey))")

        let first = Task { () -> Int in
            let c = try await PostgresConnection.connect(conninfo)
            return try await Migrator().migrate(on: c).count
        }
        let second = Task { () -> Int in
            let c = try await PostgresConnection.connect(conninfo)
            return try await Migrator().migrate(on: c).count
        }
        // Both are blocked on the advisory lock while the holder has it.
        let observer = try await PostgresConnection.connect(conninfo)
        var waiting = 0
        for _ in 0..<100 {
            waiting = try await observer.query(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )[0].decode(0, as: Int.self)
            if waiting == 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(waiting == 2)
        let before = try await observer.query("SELECT to_regclass('schema_migrations') IS NULL")[0].decode(0, as: Bool.self)
        #expect(before)

        try await holder.query("SELECT pg_advisory_unlock(\(Migrator.lockKey))")
        let counts = [try await first.value, try await second.value].sorted()
        #expect(counts == [0, Migration.embedded.count])
        let applied = try await observer.query("SELECT count(*) FROM schema_migrations")[0].decode(0, as: Int.self)
        #expect(applied == Migration.embedded.count)
    }

    @Test("a changed migration file is refused and nothing more is applied")
    func tamperedMigrationRefused() async throws {
        let conn = try await TestDatabase.connect()
        let original = [
            Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int)"),
        ]
        try await Migrator(migrations: original).migrate(on: conn)
        let tampered = [
            Migration(version: 1, name: "one", sql: "CREATE TABLE one (v int, w int)"),
            Migration(version: 2, name: "two", sql: "CREATE TABLE two (v int)"),
        ]
        do {
            try await Migrator(migrations: tampered).migrate(on: conn)
            Issue.record("expected the changed migration to be refused")
        } catch let error as MigrationError {
            #expect(error.description.contains("migration 1 (one) has changed"))
        }
        #expect(try await conn.query("SELECT to_regclass('two') IS NULL")[0].decode(0, as: Bool.self))
        let states = try await Migrator(migrations: tampered).status(on: conn)
        #expect(states.map(\.status) == [.changed, .pending])
    }

    @Test("a database migrated by a newer qofd is refused")
    func newerSchemaRefused() async throws {
        let conn = try await TestDatabase.connect()
        let newer = [
            Migration(version: 1, name: "one", sql: "SELECT 1"),
            Migration(version: 2, name: "two", sql: "SELECT 2"),
        ]
        try await Migrator(migrations: newer).migrate(on: conn)
        await #expect(throws: MigrationError.self) {
            try await Migrator(migrations: [newer[0]]).migrate(on: conn)
        }
    }

    @Test("a failing migration is rolled back and not recorded; earlier ones stay")
    func failingMigrationRolledBack() async throws {
        let conn = try await TestDatabase.connect()
        let migrations = [
            Migration(version: 1, name: "good", sql: "CREATE TABLE good (v int)"),
            Migration(version: 2, name: "bad", sql: "CREATE TABLE half (v int); SELECT 1/0;"),
        ]
        await #expect(throws: MigrationError.self) { try await Migrator(migrations: migrations).migrate(on: conn) }
        #expect(try await conn.query("SELECT to_regclass('good') IS NOT NULL")[0].decode(0, as: Bool.self))
        #expect(try await conn.query("SELECT to_regclass('half') IS NULL")[0].decode(0, as: Bool.self))
        let versions = try await conn.query("SELECT version FROM schema_migrations").map { try $0.decode(0, as: Int.self) }
        #expect(versions == [1])
    }

    @Test("the binary carries exactly the files in sql/")
    func embeddedMatchesFiles() throws {
        let sqlDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: sqlDirectory.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        let fromDisk = try files.map { name in
            Migration(fileName: name, sql: try String(contentsOf: sqlDirectory.appending(path: name), encoding: .utf8))!
        }
        #expect(fromDisk == Migration.embedded)
        #expect(Migration.embedded.map(\.version) == Array(1...Migration.embedded.count))
    }
}
