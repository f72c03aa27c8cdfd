import Postgres
import Testing
import TestSupport

@Suite("COPY FROM STDIN")
struct CopyTests {
    @Test("one million rows stream through COPY and all arrive")
    func millionRows() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE big (id int8, practice text, value int4, day date, note text)")
        let day = PostgresDate(year: 2026, month: 3, day: 31)
        let copied = try await conn.copyIn(table: "big", columns: ["id", "practice", "value", "day", "note"]) { w in
            for i in 0..<1_000_000 {
                try w.append(i)
                try w.append("A81001")
                try w.append(i % 1000)
                try w.append(day)
                if i % 10 == 0 { try w.appendNull() } else { try w.append("row \(i)") }
                try w.endRow()
            }
        }
        #expect(copied == 1_000_000)
        let rows = try await conn.query("SELECT count(*), sum(id), count(note), sum(value) FROM big")
        #expect(try rows[0].decode(0, as: Int.self) == 1_000_000)
        #expect(try rows[0].decode(1, as: Int.self) == 499_999_500_000)
        #expect(try rows[0].decode(2, as: Int.self) == 900_000)
        #expect(try rows[0].decode(3, as: Int.self) == 499_500_000)
    }

    @Test("tabs, newlines, backslashes and unicode survive COPY escaping")
    func escaping() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v text, b bytea)")
        let values = ["tab\there", "new\nline", "back\\slash", "\\N", "Zoë 🩺", "cr\rhere", ""]
        try await conn.copyIn(table: "t", columns: ["v", "b"]) { w in
            for v in values {
                try w.append(v)
                try w.append(Array(v.utf8))
                try w.endRow()
            }
        }
        let rows = try await conn.query("SELECT v, b FROM t")
        #expect(try rows.map { try $0.decode(0, as: String.self) } == values)
        #expect(try rows.map { try $0.decode(1, as: [UInt8].self) } == values.map { Array($0.utf8) })
    }

    @Test("a bad row rolls back the whole COPY and reports SQLSTATE 22P02")
    func badRowRollsBackAll() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v int4)")
        do {
            try await conn.copyIn(table: "t", columns: ["v"]) { w in
                try w.append(1); try w.endRow()
                try w.append("not a number"); try w.endRow()
                try w.append(3); try w.endRow()
            }
            Issue.record("expected COPY to fail")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22P02")
        }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 0)
        // The connection is still usable.
        #expect(try await conn.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
    }

    @Test("when the writer throws, the COPY is aborted and the caller's error comes back")
    func writerThrowAborts() async throws {
        struct Stop: Error {}
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v int4)")
        await #expect(throws: Stop.self) {
            try await conn.copyIn(table: "t", columns: ["v"]) { w in
                for i in 0..<100_000 {
                    try w.append(i)
                    try w.endRow()
                }
                throw Stop()
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 0)
    }

    @Test("COPY inside a transaction is undone by the transaction's rollback")
    func copyInsideTransaction() async throws {
        struct Stop: Error {}
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE t (v int4)")
        await #expect(throws: Stop.self) {
            try await conn.withTransaction { c in
                try c.copyIn(table: "t", columns: ["v"]) { w in try w.append(7); try w.endRow() }
                throw Stop()
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM t")[0].decode(0, as: Int.self) == 0)
    }
}

extension CopyTests {
    @Test("binary COPY carries bigints, text, NULLs and text arrays exactly, and a type mismatch fails whole")
    func binaryCopy() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.executeScript("CREATE TABLE b (id int8, name text, items text[])")
        let items = ["tab\there", "new\nline", "back\\slash", "\"quoted\"", "{brace}", "comma,", "Zoë 🩺", "", "NULL"]
        let ids: [Int64] = [0, -1, Int64.max, Int64.min, 42]
        let copied = try await conn.copyInBinary(table: "b", columns: ["id", "name", "items"]) { w in
            for (i, id) in ids.enumerated() {
                try w.beginRow(fields: 3)
                try w.append(int8: id)
                try w.append(i == 1 ? nil : "row \(i)")
                try w.appendTextArray(i == 2 ? [] : items)
            }
        }
        #expect(copied == ids.count)
        let rows = try await conn.query("SELECT id, name, items, cardinality(items) FROM b ORDER BY id")
        #expect(try rows.map { try $0.decode(0, as: Int.self) } == ids.sorted().map(Int.init))
        #expect(try rows.map { try $0.decode(1, as: String?.self) }.filter { $0 == nil }.count == 1)
        let unnested = try await conn.query("SELECT u FROM b, unnest(items) WITH ORDINALITY AS x (u, n) WHERE id = 42 ORDER BY n")
        #expect(try unnested.map { try $0.decode(0, as: String.self) } == items)
        #expect(try await conn.query("SELECT cardinality(items) FROM b WHERE id = \(Int(Int64.max))")[0].decode(0, as: Int.self) == 0)
        // A value of the wrong type (text where the column is int8) is refused and nothing is stored.
        try await conn.executeScript("CREATE TABLE c (id int8)")
        await #expect(throws: PostgresError.self) {
            try await conn.copyInBinary(table: "c", columns: ["id"]) { w in
                try w.beginRow(fields: 1)
                try w.append(int8: 1)
                try w.beginRow(fields: 1)
                try w.append("two")
            }
        }
        #expect(try await conn.query("SELECT count(*) FROM c")[0].decode(0, as: Int.self) == 0)
    }
}
