import CLibPQ

/// The statements a connection has prepared, by SQL text and parameter types. A statement the daemon
/// runs for every extract (claim, store, report queries) is parsed and planned by the server once per
/// connection instead of once per call, and PostgreSQL may settle on a generic plan for it.
///
/// Prepared statements live in the server session: the cache is emptied when the connection is
/// opened or re-established. It holds at most `capacity` statements (SQL built at run time, such as a
/// list of placeholders of varying length, could otherwise grow it without end); beyond that,
/// statements run unprepared.
struct PreparedStatements {
    struct Key: Hashable {
        let sql: String
        let types: [UInt32]
    }

    static let capacity = 256
    private var names: [Key: String] = [:]
    private var counter = 0

    /// The name of the statement for `key`, if prepared.
    func name(for key: Key) -> String? { names[key] }

    var isFull: Bool { names.count >= Self.capacity }

    /// A new statement name for `key` (the caller prepares it, then `remember`s it).
    mutating func newName() -> String {
        counter += 1
        return "qofd_\(counter)"
    }

    mutating func remember(_ key: Key, as name: String) { names[key] = name }

    mutating func forget(_ key: Key) { names[key] = nil }

    mutating func removeAll() { names.removeAll() }
}

extension PostgresBinding {
    /// The type OID sent with the parameter (0: the server infers it from the statement).
    var typeOID: UInt32 {
        switch self {
        case .null, .text: 0
        case .binary: PostgresType.bytea.oid
        }
    }
}

extension PostgresConnection {
    /// Runs `query` as a prepared statement, preparing it on first use. A statement the server no longer
    /// holds, or whose plan can no longer give the same result type (a table changed under it), is
    /// forgotten and the query runs unprepared this once.
    func runPrepared(_ query: PostgresQuery, on conn: OpaquePointer) throws -> PostgresResult {
        let key = PreparedStatements.Key(sql: query.sql, types: query.bindings.map(\.typeOID))
        var name = prepared.name(for: key)
        if name == nil, !prepared.isFull {
            let fresh = prepared.newName()
            let types = key.types
            let result = types.withUnsafeBufferPointer { t in
                PQprepare(conn, fresh, query.sql, Int32(types.count), t.baseAddress)
            }
            _ = try check(result, connection: conn)
            prepared.remember(key, as: fresh)
            name = fresh
        }
        guard let name else { return try runUnprepared(query, on: conn) }
        let result = withParameters(query.bindings) { count, _, values, lengths, formats in
            PQexecPrepared(conn, name, count, values, lengths, formats, 0)
        }
        do {
            return try check(result, connection: conn)
        } catch let error as PostgresError where error.sqlState == "0A000" || error.sqlState == "26000" {
            // 0A000: cached plan must not change result type; 26000: no such prepared statement.
            // Inside a transaction the failure has aborted it: forget the statement and report the error (the
            // caller's retry prepares it afresh); outside one, run the query unprepared now.
            prepared.forget(key)
            guard PQtransactionStatus(conn) == PQTRANS_IDLE else { throw error }
            if error.sqlState == "0A000" { _ = try? check(PQexec(conn, "DEALLOCATE \(name)"), connection: conn) }
            return try runUnprepared(query, on: conn)
        }
    }

    func runUnprepared(_ query: PostgresQuery, on conn: OpaquePointer) throws -> PostgresResult {
        let result = withParameters(query.bindings) { count, types, values, lengths, formats in
            PQexecParams(conn, query.sql, count, types, values, lengths, formats, 0)
        }
        return try check(result, connection: conn)
    }
}
