import CLibPQ

extension PostgresConnection {
    /// Streams rows into `table` with `COPY … FROM STDIN` (text format), the fastest way to write
    /// many rows. All or nothing: a bad row, or `body` throwing, aborts the whole COPY.
    ///
    /// ```swift
    /// let n = try conn.copyIn(table: "indicator_result", columns: ["run_id", "indicator", "numerator"]) { w in
    ///     for r in results { w.append(runID); w.append(r.id); w.append(r.numerator); w.endRow() }
    /// }
    /// ```
    /// - Returns: the number of rows the server stored.
    @discardableResult
    public func copyIn(
        table: String, columns: [String], _ body: @Sendable (inout CopyWriter) throws -> Void
    ) throws -> Int {
        let target = table.split(separator: ".").map { quoteIdentifier(String($0)) }.joined(separator: ".")
        let cols = columns.map(quoteIdentifier).joined(separator: ", ")
        return try copyIn(statement: "COPY \(target) (\(cols)) FROM STDIN", body)
    }

    /// Runs a `COPY … FROM STDIN` statement you wrote yourself and streams `body`'s bytes to it.
    @discardableResult
    public func copyIn(statement: String, _ body: @Sendable (inout CopyWriter) throws -> Void) throws -> Int {
        let conn = try liveHandle()
        let start = PQexec(conn, statement)
        let started = try check(start, connection: conn)
        guard PQresultStatus(started.pointer) == PGRES_COPY_IN else {
            throw PostgresError(code: .copyFailed, message: "statement did not start COPY FROM STDIN")
        }
        var writer = CopyWriter(handle: conn)
        do {
            try body(&writer)
            try writer.flush()
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
public struct CopyWriter {
    private let handle: OpaquePointer
    private var buffer: [UInt8] = []
    private var atRowStart = true
    private static let chunk = 1 << 18

    init(handle: OpaquePointer) {
        self.handle = handle
        buffer.reserveCapacity(Self.chunk + 4096)
    }

    @inline(__always) private mutating func separate() {
        if atRowStart { atRowStart = false } else { buffer.append(9) }
    }

    /// Appends a text field.
    public mutating func append(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case 92: buffer.append(92); buffer.append(92)
                case 9: buffer.append(92); buffer.append(UInt8(ascii: "t"))
                case 10: buffer.append(92); buffer.append(UInt8(ascii: "n"))
                case 13: buffer.append(92); buffer.append(UInt8(ascii: "r"))
                default: buffer.append(byte)
                }
            }
        }
    }

    /// Appends an integer field.
    public mutating func append(_ value: Int) {
        separate()
        appendDigits(value)
    }

    private mutating func appendDigits(_ value: Int) {
        if value == 0 { buffer.append(48); return }
        var v = value.magnitude
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[count] = UInt8(v % 10) + 48
                v /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(d[i]) }
        }
    }

    /// Appends a floating-point field.
    public mutating func append(_ value: Double) {
        separate()
        buffer.append(contentsOf: "\(value)".utf8)
    }

    /// Appends a boolean field.
    public mutating func append(_ value: Bool) {
        separate()
        buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Appends a date field (`YYYY-MM-DD`).
    public mutating func append(_ value: PostgresDate) {
        separate()
        buffer.append(contentsOf: value.description.utf8)
    }

    /// Appends any encodable value (NULL for nil); bytea values go in hex form.
    public mutating func append(_ value: some PostgresEncodable) {
        switch value.postgresBinding {
        case .null: appendNull()
        case .text(let s): append(s)
        case .binary(let bytes):
            separate()
            buffer.append(contentsOf: [92, 92, UInt8(ascii: "x")])
            let hex = Array("0123456789abcdef".utf8)
            for b in bytes {
                buffer.append(hex[Int(b >> 4)])
                buffer.append(hex[Int(b & 15)])
            }
        }
    }

    /// Appends SQL NULL.
    public mutating func appendNull() {
        separate()
        buffer.append(92)
        buffer.append(UInt8(ascii: "N"))
    }

    /// Ends the current row; sends the buffer to the server once it is large.
    public mutating func endRow() throws {
        buffer.append(10)
        atRowStart = true
        if buffer.count >= Self.chunk { try flush() }
    }

    /// Sends whatever is buffered.
    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let handle = self.handle
        let status = buffer.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else {
            let message = String(cString: PQerrorMessage(handle))
            throw PostgresError(code: PQstatus(handle) == CONNECTION_BAD ? .connectionLost : .copyFailed, message: message)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
