import CLibPQ

extension PostgresConnection {
    /// Streams rows into `table` with `COPY … FROM STDIN` (text format), the fastest way to write
    /// many rows. All or nothing: a bad row, or `body` throwing, aborts the whole COPY.
    ///
    /// ```swift
    /// let n = try conn.copyIn(table: "indicator_result", columns: ["run_id", "indicator", "numerator"]) { w in
    ///     for r in results { try w.append(runID); try w.append(r.id); try w.append(r.numerator); try w.endRow() }
    /// }
    /// ```
    /// - Returns: the number of rows the server stored.
    @discardableResult
    public func copyIn(
        table: String, columns: [String], _ body: @Sendable (inout CopyWriter) throws -> Void
    ) throws -> Int {
        try copyIn(statement: copyStatement(table, columns), body)
    }

    /// Runs a `COPY … FROM STDIN` statement you wrote yourself and streams `body`'s bytes to it.
    @discardableResult
    public func copyIn(statement: String, _ body: @Sendable (inout CopyWriter) throws -> Void) throws -> Int {
        try copying(statement) { conn in
            var writer = CopyWriter(handle: conn)
            try body(&writer)
            try writer.flush()
        }
    }

    /// Streams rows into `table` with `COPY … FROM STDIN (FORMAT binary)`: nothing for the server to parse,
    /// for bulky values such as long arrays. Each value must be sent as its column's exact type.
    @discardableResult
    public func copyInBinary(
        table: String, columns: [String], _ body: @Sendable (inout BinaryCopyWriter) throws -> Void
    ) throws -> Int {
        try copying(copyStatement(table, columns, options: " (FORMAT binary)")) { conn in
            var writer = BinaryCopyWriter(handle: conn)
            try body(&writer)
            try writer.finish()
        }
    }

    /// `COPY "schema"."table" ("a", "b") FROM STDIN`, every name quoted.
    private func copyStatement(_ table: String, _ columns: [String], options: String = "") -> String {
        let target = table.split(separator: ".").map { quoteIdentifier(String($0)) }.joined(separator: ".")
        return "COPY \(target) (\(columns.map(quoteIdentifier).joined(separator: ", "))) FROM STDIN\(options)"
    }

    /// Starts a COPY FROM STDIN, lets `send` stream the data, then ends it; all or nothing.
    private func copying(_ statement: String, _ send: (OpaquePointer) throws -> Void) throws -> Int {
        let conn = try liveHandle()
        let start = PQexec(conn, statement)
        let started = try check(start, connection: conn)
        guard PQresultStatus(started.pointer) == PGRES_COPY_IN else {
            throw PostgresError(code: .copyFailed, message: "statement did not start COPY FROM STDIN")
        }
        do {
            try send(conn)
        } catch {
            // CopyFail: the server discards everything sent so far.
            _ = PQputCopyEnd(conn, "qofd: COPY aborted by the client")
            _ = drainResults(conn)
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else {
            throw connectionError(conn, fallback: "could not end COPY")
        }
        return try drainResults(conn).get()
    }

    /// Reads results until libpq returns NULL; the first error wins. Returns rows copied.
    private func drainResults(_ conn: OpaquePointer) -> Result<Int, PostgresError> {
        var outcome: Result<Int, PostgresError> = .success(0)
        while let result = PQgetResult(conn) {
            let owned = PostgresResult(result)
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK:
                if case .success = outcome { outcome = .success(owned.affectedRows) }
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
                if case .success = outcome {
                    var error = Self.serverError(result)
                    if PQstatus(conn) == CONNECTION_BAD { error.code = .connectionLost }
                    outcome = .failure(error)
                }
            default:
                if case .success = outcome {
                    outcome = .failure(PostgresError(code: .copyFailed, message: "unexpected result during COPY"))
                }
            }
        }
        if case .success = outcome, PQstatus(conn) == CONNECTION_BAD {
            outcome = .failure(connectionError(conn, fallback: "connection lost during COPY"))
        }
        return outcome
    }
}

/// Builds COPY text-format rows in a buffer and hands them to libpq in large chunks.
///
/// Fields are separated by tabs and rows end with a newline; `append` escapes backslash, tab,
/// newline and carriage return as the COPY text format requires. Call `endRow()` after each row.
/// The writer only lives inside `copyIn`'s body.
public struct CopyWriter: ~Copyable {
    private let handle: OpaquePointer
    private let storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var atRowStart = true
    private static let capacity = 1 << 20
    /// Flush once a row ends past this mark.
    private static let flushMark = capacity - (64 << 10)

    init(handle: OpaquePointer) {
        self.handle = handle
        storage = .allocate(capacity: Self.capacity)
    }

    deinit { storage.deallocate() }

    /// Makes room for `n` more bytes, sending what is buffered if needed.
    @inline(__always) private mutating func reserve(_ n: Int) throws {
        if count + n > Self.capacity { try flush() }
    }

    @inline(__always) private mutating func put(_ byte: UInt8) {
        storage[count] = byte
        count &+= 1
    }

    @inline(__always) private mutating func separate() {
        if atRowStart { atRowStart = false } else { put(9) }
    }

    /// Appends a text field.
    public mutating func append(_ value: String) throws {
        var value = value
        try value.withUTF8 { utf8 in try appendEscaped(UnsafeRawBufferPointer(utf8)) }
    }

    private mutating func appendEscaped(_ bytes: UnsafeRawBufferPointer) throws {
        if count + 2 * bytes.count + 1 > Self.capacity {
            try flush()
            guard 2 * bytes.count + 1 <= Self.capacity else {
                throw PostgresError(code: .invalidParameter, message: "a COPY field is larger than \(Self.capacity / 2) bytes")
            }
        }
        separate()
        for byte in bytes {
            switch byte {
            case 92: put(92); put(92)
            case 9: put(92); put(UInt8(ascii: "t"))
            case 10: put(92); put(UInt8(ascii: "n"))
            case 13: put(92); put(UInt8(ascii: "r"))
            default: put(byte)
            }
        }
    }

    /// Appends an integer field.
    public mutating func append(_ value: Int) throws {
        try reserve(21)
        separate()
        if value == 0 { put(48); return }
        if value < 0 { put(UInt8(ascii: "-")) }
        var v = value.magnitude
        var digits = 0
        var probe = v
        while probe > 0 { digits += 1; probe /= 10 }
        var i = count + digits - 1
        while v > 0 {
            storage[i] = UInt8(truncatingIfNeeded: v % 10) &+ 48
            v /= 10
            i -= 1
        }
        count += digits
    }

    /// Appends a floating-point field.
    public mutating func append(_ value: Double) throws {
        try append("\(value)")
    }

    /// Appends a boolean field.
    public mutating func append(_ value: Bool) throws {
        try reserve(2)
        separate()
        put(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Appends a date field (`YYYY-MM-DD`).
    public mutating func append(_ value: PostgresDate) throws {
        try reserve(16)
        separate()
        var y = value.year
        for i in stride(from: 3, through: 0, by: -1) {
            storage[count + i] = UInt8(y % 10) + 48
            y /= 10
        }
        storage[count + 4] = 45
        storage[count + 5] = UInt8(value.month / 10) + 48
        storage[count + 6] = UInt8(value.month % 10) + 48
        storage[count + 7] = 45
        storage[count + 8] = UInt8(value.day / 10) + 48
        storage[count + 9] = UInt8(value.day % 10) + 48
        count += 10
    }

    /// Appends any encodable value (NULL for nil); bytea values go in hex form.
    public mutating func append(_ value: some PostgresEncodable) throws {
        switch value.postgresBinding {
        case .null: try appendNull()
        case .text(let s): try append(s)
        case .binary(let bytes):
            try reserve(3 + 2 * bytes.count)
            separate()
            put(92); put(92); put(UInt8(ascii: "x"))
            let hex: StaticString = "0123456789abcdef"
            let digits = hex.utf8Start
            for b in bytes {
                put(digits[Int(b >> 4)])
                put(digits[Int(b & 15)])
            }
        }
    }

    /// Appends SQL NULL.
    public mutating func appendNull() throws {
        try reserve(3)
        separate()
        put(92)
        put(UInt8(ascii: "N"))
    }

    /// Ends the current row; sends the buffer to the server once it is large.
    public mutating func endRow() throws {
        try reserve(1)
        put(10)
        atRowStart = true
        if count >= Self.flushMark { try flush() }
    }

    /// Sends whatever is buffered.
    mutating func flush() throws {
        guard count > 0 else { return }
        let status = storage.withMemoryRebound(to: CChar.self, capacity: count) {
            PQputCopyData(handle, $0, Int32(count))
        }
        guard status == 1 else {
            let message = String(cString: PQerrorMessage(handle))
            throw PostgresError(code: PQstatus(handle) == CONNECTION_BAD ? .connectionLost : .copyFailed, message: message)
        }
        count = 0
    }
}
