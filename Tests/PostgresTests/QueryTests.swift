import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Parameterised queries and typed decoding")
struct QueryTests {
    static let hostile = [
        "'; DROP TABLE victim; --",
        "Robert'); DROP TABLE victim;--",
        "\\' OR 1=1 --",
        "$1 $2 $$ quoted $$",
        "O'Brien \"the\" \\ backslash",
        "line\nbreak\ttab\r",
        "Zoë, 名前, 🩺",
        String(repeating: "x", count: 100_000),
    ]

    @Test("hostile strings are bound as values, never run as SQL", arguments: hostile)
    func hostileStringsRoundTrip(_ value: String) async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE victim (v text)")
        try await conn.execute("INSERT INTO victim (v) VALUES (\(value))")
        let rows = try await conn.query("SELECT v, length(v) FROM victim WHERE v = \(value)")
        #expect(rows.count == 1)
        #expect(try rows[0].decode(0, as: String.self) == value)
        #expect(try rows[0].decode(1, as: Int.self) == value.count)
        // The table is still there.
        let count = try await conn.query("SELECT count(*) FROM victim")
        #expect(try count[0].decode(0, as: Int.self) == 1)
    }

    @Test("a NUL byte in a text parameter is refused with a clear error, not silently truncated")
    func nulByteRefused() async throws {
        let conn = try await TestDatabase.connect()
        do {
            try await conn.query("SELECT \("a\u{0}b")::text")
            Issue.record("expected the NUL byte to be refused")
        } catch let error as PostgresError {
            #expect(error.code == .invalidParameter)
        }
    }

    @Test("every supported type decodes, and NULL decodes to nil")
    func everyTypeDecodes() async throws {
        let conn = try await TestDatabase.connect()
        let rows = try await conn.query(
            """
            SELECT 'text'::text, 32767::int2, 2147483647::int4, 9223372036854775807::int8, -42::int8,
                   12345.6789::numeric(10,4), 3.5::float8, true, false,
                   '2026-03-31'::date, '2026-04-01 01:00:00.25+00'::timestamptz,
                   '\\x00ff10'::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
                   NULL::text, NULL::int4, NULL::date
            """)
        let row = rows[0]
        #expect(try row.decode(0, as: String.self) == "text")
        #expect(try row.decode(1, as: Int16.self) == Int16.max)
        #expect(try row.decode(2, as: Int32.self) == Int32.max)
        #expect(try row.decode(3, as: Int64.self) == Int64.max)
        #expect(try row.decode(4, as: Int.self) == -42)
        #expect(try row.decode(5, as: Decimal.self) == Decimal(string: "12345.6789"))
        #expect(try row.decode(6, as: Double.self) == 3.5)
        #expect(try row.decode(7, as: Bool.self) == true)
        #expect(try row.decode(8, as: Bool.self) == false)
        #expect(try row.decode(9, as: PostgresDate.self) == PostgresDate(year: 2026, month: 3, day: 31))
        #expect(try row.decode(10, as: Date.self) == Date(timeIntervalSince1970: 1_775_005_200.25))
        #expect(try row.decode(11, as: [UInt8].self) == [0x00, 0xff, 0x10])
        #expect(try row.decode(12, as: UUID.self) == UUID(uuidString: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        #expect(try row.decode(13, as: String?.self) == nil)
        #expect(try row.decode(14, as: Int?.self) == nil)
        #expect(try row.decode(15, as: PostgresDate?.self) == nil)
        #expect(throws: PostgresError.self) { try row.decode(13, as: String.self) }
        #expect(throws: PostgresError.self) { try row.decode(0, as: Int.self) }
        #expect(throws: PostgresError.self) { try row.decode(2, as: Int16.self) }
    }

    @Test("values of every type bind as parameters and come back unchanged")
    func everyTypeBinds() async throws {
        let conn = try await TestDatabase.connect()
        let when = Date(timeIntervalSince1970: 1_775_005_200.5)
        let day = PostgresDate(year: 2024, month: 2, day: 29)
        let bytes: [UInt8] = [0, 1, 2, 254, 255]
        let missing: Int? = nil
        let rows = try await conn.query(
            """
            SELECT \(42)::int8, \(Decimal(string: "0.1")!)::numeric, \(true)::bool, \(day)::date,
                   \(when)::timestamptz, \(bytes)::bytea, \(missing)::int4 IS NULL, \(-1.25)::float8
            """)
        let row = rows[0]
        #expect(try row.decode(0, as: Int.self) == 42)
        #expect(try row.decode(1, as: Decimal.self) == Decimal(string: "0.1"))
        #expect(try row.decode(2, as: Bool.self))
        #expect(try row.decode(3, as: PostgresDate.self) == day)
        #expect(try row.decode(4, as: Date.self) == when)
        #expect(try row.decode(5, as: [UInt8].self) == bytes)
        #expect(try row.decode(6, as: Bool.self))
        #expect(try row.decode(7, as: Double.self) == -1.25)
    }

    @Test("columns can be decoded by name")
    func decodeByName() async throws {
        let conn = try await TestDatabase.connect()
        let rows = try await conn.query("SELECT 1 AS one, 'two' AS two")
        #expect(try rows[0].decode("two", as: String.self) == "two")
        #expect(rows.columns == ["one", "two"])
        #expect(throws: PostgresError.self) { try rows[0].decode("three", as: String.self) }
    }
}
