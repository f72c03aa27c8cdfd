import Postgres
import Testing
import TestSupport

/// Statements are prepared once per connection and reused; the results must be exactly those of
/// running each statement afresh.
@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test("a statement run again is prepared once and takes each call's values")
    func preparedOnceReusedWithNewValues() async throws {
        let conn = try await TestDatabase.connect()
        for n in 1...20 {
            let rows = try await conn.query("SELECT \(n)::int * 2, \(n % 3 == 0 ? nil : "x\(n)" as String?)")
            #expect(try rows[0].decode(0, as: Int.self) == n * 2)
            #expect(try rows[0].decode(1, as: String?.self) == (n % 3 == 0 ? nil : "x\(n)"))
        }
        let prepared = try await conn.query("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int * 2%'")
        #expect(try prepared[0].decode(0, as: Int.self) == 1)
    }

    @Test("a table changed under a prepared statement: the statement is prepared again and sees the new columns")
    func tableChangedUnderStatement() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE changing (a int); INSERT INTO changing VALUES (1)")
        #expect(try await conn.query("SELECT * FROM changing WHERE a = \(1)")[0].decode(0, as: Int.self) == 1)
        try await conn.executeScript("ALTER TABLE changing ADD COLUMN b text DEFAULT 'new'")
        let rows = try await conn.query("SELECT * FROM changing WHERE a = \(1)")
        #expect(try rows[0].decode(1, as: String.self) == "new")
        // Prepared again on its next run; then, inside a transaction, a change is reported once (the transaction
        // is already aborted) and the statement works again after.
        #expect(try await conn.query("SELECT * FROM changing WHERE a = \(1)").count == 1)
        try await conn.executeScript("ALTER TABLE changing ADD COLUMN c int DEFAULT 3")
        await #expect(throws: PostgresError.self) {
            try await conn.withTransaction { c in try c.query("SELECT * FROM changing WHERE a = \(1)") }
        }
        let again = try await conn.withTransaction { c in try c.query("SELECT * FROM changing WHERE a = \(1)")[0].decode(2, as: Int.self) }
        #expect(again == 3)
    }

    @Test("an error in a prepared statement is reported and the connection goes on")
    func errorsStillReported() async throws {
        let conn = try await TestDatabase.connect()
        for _ in 0..<2 {
            await #expect(throws: PostgresError.self) { try await conn.query("SELECT 1 / \(0)::int") }
        }
        #expect(try await conn.query("SELECT 1 / \(1)::int")[0].decode(0, as: Int.self) == 1)
    }
}
