import CLibPQ

/// Owns one libpq result and frees it when the last row referring to it goes.
///
/// libpq documents a PGresult as read-only after creation and safe to pass between threads,
/// which is why this wrapper may be `Sendable` although it holds a C pointer.
final class PostgresResult: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { PQclear(pointer) }

    var rowCount: Int { Int(PQntuples(pointer)) }
    var columnCount: Int { Int(PQnfields(pointer)) }

    func columnName(_ column: Int) -> String { String(cString: PQfname(pointer, Int32(column))) }
    func columnType(_ column: Int) -> PostgresType { PostgresType(oid: UInt32(PQftype(pointer, Int32(column)))) }

    /// Rows affected by INSERT/UPDATE/DELETE/COPY (`PQcmdTuples`), 0 when not applicable.
    var affectedRows: Int { Int(String(cString: PQcmdTuples(pointer))) ?? 0 }
}

/// The rows a query returned, in order.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let result: PostgresResult
    /// Column names by position, computed once.
    public let columns: [String]

    init(result: PostgresResult) {
        self.result = result
        self.columns = (0..<result.columnCount).map(result.columnName)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { result.rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// Rows affected by the statement (INSERT/UPDATE/DELETE/COPY).
    public var affectedRows: Int { result.affectedRows }

    func columnIndex(_ name: String) throws -> Int {
        guard let i = columns.firstIndex(of: name) else { throw decodingError("no column named \(name)") }
        return i
    }
}

/// One row of a result. Decode columns by position or name to any `PostgresDecodable` type.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Decodes column `column`; a NULL decodes to nil for optional types and is an error otherwise.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        let r = rows.result
        guard column >= 0, column < r.columnCount else { throw decodingError("no column \(column)") }
        let row = Int32(index)
        let col = Int32(column)
        if PQgetisnull(r.pointer, row, col) == 1 {
            guard let null = T.postgresNull else {
                throw decodingError("column \(rows.columns[column]) is NULL but \(T.self) is not optional")
            }
            return null
        }
        let length = Int(PQgetlength(r.pointer, row, col))
        let bytes = UnsafeRawBufferPointer(start: PQgetvalue(r.pointer, row, col), count: length)
        return try T(postgresText: bytes, type: r.columnType(column))
    }

    /// Decodes the column named `name`.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try decode(try rows.columnIndex(name), as: type)
    }

    /// True when the column is SQL NULL.
    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(rows.result.pointer, Int32(index), Int32(column)) == 1
    }
}
