import Logging
import Postgres
import Testing
import TestSupport

@Suite("Errors, transactions and notices")
struct ErrorTests {
    @Test("a unique violation carries SQLSTATE 23505, the constraint, and keeps row values out of the description")
    func uniqueViolation() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE patient (nhs_number text CONSTRAINT patient_nhs_unique UNIQUE)")
        try await conn.execute("INSERT INTO patient VALUES (\("9434765919"))")
        do {
            try await conn.execute("INSERT INTO patient VALUES (\("9434765919"))")
            Issue.record("expected a unique violation")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23505")
            #expect(error.code == .server)
            #expect(error.constraint == "patient_nhs_unique")
            #expect(error.detail?.contains("9434765919") == true)
            #expect(!error.description.contains("9434765919"))
            #expect(error.debugDescription.contains("9434765919"))
            #expect(!error.isConnectionLoss)
        }
    }

    @Test("a value the server quotes in a data-exception message is withheld from the description")
    func dataExceptionValues() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE reading (value int)")
        for (sql, state): (PostgresQuery, String) in [("INSERT INTO reading VALUES (\("Smith"))", "22P02"), ("SELECT \("99999999999")::int", "22003")] {
            do {
                try await conn.execute(sql)
                Issue.record("expected a data exception")
            } catch let error as PostgresError {
                #expect(error.sqlState == state)
                #expect(!error.description.contains("Smith") && !error.description.contains("99999999999"), "\(error.description)")
                #expect(error.description.contains("(value withheld)"))
                #expect(error.message.contains("Smith") || error.message.contains("99999999999"))
            }
        }
    }

    @Test("errors carry message, detail and hint from the server")
    func messageDetailHint() async throws {
        let conn = try await TestDatabase.connect()
        do {
            try await conn.executeScript(
                "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = 'P0001'; END $$")
            Issue.record("expected an error")
        } catch let error as PostgresError {
            #expect(error.sqlState == "P0001")
            #expect(error.message == "boom")
            #expect(error.detail == "the detail")
            #expect(error.hint == "the hint")
            #expect(error.severity == "ERROR")
        }
    }

    @Test("a transaction whose body throws is rolled back")
    func rollbackOnThrow() async throws {
        struct Stop: Error {}
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v int)")
        await #expect(throws: Stop.self) {
            try await conn.withTransaction { c in
                try c.execute("INSERT INTO t VALUES (\(1))")
                throw Stop()
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 0)
        // The connection is usable and a committed transaction stays.
        try await conn.withTransaction { c in try c.execute("INSERT INTO t VALUES (\(2))") }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 1)
    }

    @Test("a failing statement inside a transaction rolls back the earlier ones")
    func rollbackOnServerError() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v int PRIMARY KEY)")
        await #expect(throws: PostgresError.self) {
            try await conn.withTransaction { c in
                try c.execute("INSERT INTO t VALUES (\(1))")
                try c.execute("INSERT INTO t VALUES (\(1))")
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 0)
    }

    @Test("server notices go to the logger, not to stderr")
    func noticesAreLogged() async throws {
        let log = CapturedLog()
        let conn = try await TestDatabase.connect(logger: log.logger)
        try await conn.executeScript("DROP TABLE IF EXISTS no_such_table")
        #expect(log.messages.contains { $0.contains("no_such_table") && $0.contains("does not exist") })
    }

    @Test("a connection that cannot be made reports connectionFailed")
    func connectFailure() async throws {
        do {
            _ = try await PostgresConnection.connect("host=/nonexistent-socket-dir dbname=x connect_timeout=2")
            Issue.record("expected a connection failure")
        } catch let error as PostgresError {
            #expect(error.code == .connectionFailed)
            #expect(error.isConnectionLoss)
        }
    }

    @Test("a closed connection refuses work with connectionClosed")
    func closedConnection() async throws {
        let conn = try await TestDatabase.connect()
        await conn.close()
        await #expect(throws: PostgresError.self) { try await conn.query("SELECT 1") }
        #expect(await conn.isConnected == false)
    }
}
