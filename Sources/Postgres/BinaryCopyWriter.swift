import CLibPQ

/// Builds COPY binary-format rows in a buffer and hands them to libpq in large chunks: integers in
/// network byte order, text as its UTF-8 bytes, arrays in PostgreSQL's array wire format. The server
/// reads lengths instead of scanning characters, which matters for long arrays of identifiers.
///
/// Start each row with `beginRow(fields:)` and append exactly that many values, each of the column's
/// type (`bigint` for `append(int8:)`, `text` for `append(_: String)`, `text[]` for `appendTextArray`).
public struct BinaryCopyWriter: ~Copyable {
    private let handle: OpaquePointer
    private let storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private static let capacity = 1 << 20
    private static let textOID: Int32 = 25
    private static let int4OID: Int32 = 23
    private static let float8OID: Int32 = 701

    init(handle: OpaquePointer) {
        self.handle = handle
        storage = .allocate(capacity: Self.capacity)
        // Signature, flags, header extension length.
        for b in Array("PGCOPY\n".utf8) + [0xFF, 13, 10, 0] { put(b) }
        put32(0)
        put32(0)
    }

    deinit { storage.deallocate() }

    @inline(__always) private mutating func put(_ byte: UInt8) {
        storage[count] = byte
        count &+= 1
    }

    @inline(__always) private mutating func put32(_ v: Int32) {
        let be = UInt32(bitPattern: v).bigEndian
        withUnsafeBytes(of: be) { for b in $0 { put(b) } }
    }

    private mutating func reserve(_ n: Int) throws {
        if count + n > Self.capacity { try flush() }
        guard n <= Self.capacity else {
            throw PostgresError(code: .invalidParameter, message: "a COPY value is larger than \(Self.capacity) bytes")
        }
    }

    /// Starts a row of `fields` values.
    public mutating func beginRow(fields: Int) throws {
        try reserve(2)
        put(UInt8(fields >> 8))
        put(UInt8(fields & 0xFF))
    }

    /// A `bigint` value.
    public mutating func append(int8 value: Int64) throws {
        try reserve(12)
        put32(8)
        withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { for b in $0 { put(b) } }
    }

    /// An `integer` value.
    public mutating func append(int4 value: Int32) throws {
        try reserve(8)
        put32(4)
        put32(value)
    }

    /// A `text` value (NULL for nil).
    public mutating func append(_ value: String?) throws {
        guard var value else { return try appendNull() }
        try value.withUTF8 { utf8 in
            try reserve(4 + utf8.count)
            put32(Int32(utf8.count))
            if let base = utf8.baseAddress { (storage + count).update(from: base, count: utf8.count) }
            count += utf8.count
        }
    }

    /// SQL NULL.
    public mutating func appendNull() throws {
        try reserve(4)
        put32(-1)
    }

    /// A one-dimensional `text[]` value without NULL elements.
    public mutating func appendTextArray(_ items: [String]) throws {
        try appendTextArray(items, rows: ArraySlice((0..<Int32(items.count)).map { $0 }))
    }

    /// A one-dimensional `text[]` value of `table`'s strings at `rows`, in that order: a set of patients
    /// picked from a practice's identifiers without building an array of strings for each set.
    public mutating func appendTextArray(_ table: [String], rows: ArraySlice<Int32>) throws {
        var bytes = 0
        for r in rows { bytes += 4 + table[Int(r)].utf8.count }
        try beginArray(of: Self.textOID, count: rows.count, elementBytes: bytes)
        for r in rows {
            var item = table[Int(r)]
            item.withUTF8 { utf8 in
                put32(Int32(utf8.count))
                if let base = utf8.baseAddress { (storage + count).update(from: base, count: utf8.count) }
                count += utf8.count
            }
        }
    }

    /// A one-dimensional `int4[]` value: positions (rows of an extract's patient roster) instead of the
    /// identifiers themselves, four bytes each.
    public mutating func appendInt4Array(_ values: ArraySlice<Int32>) throws {
        try beginArray(of: Self.int4OID, count: values.count, elementBytes: 8 * values.count)
        for v in values {
            put32(4)
            put32(v)
        }
    }

    /// A one-dimensional `float8[]` value (exact doubles: scores whose band must not move in rounding).
    public mutating func appendFloat8Array(_ values: ArraySlice<Double>) throws {
        try beginArray(of: Self.float8OID, count: values.count, elementBytes: 12 * values.count)
        for v in values {
            put32(8)
            withUnsafeBytes(of: v.bitPattern.bigEndian) { for b in $0 { put(b) } }
        }
    }

    /// The field length and header of a one-dimensional array without NULLs whose elements (each with its
    /// length word) take `elementBytes`; reserves room for all of it.
    private mutating func beginArray(of oid: Int32, count n: Int, elementBytes: Int) throws {
        try reserve(4 + 20 + elementBytes)
        put32(Int32(20 + elementBytes))
        put32(1)  // dimensions
        put32(0)  // no NULLs
        put32(oid)
        put32(Int32(n))
        put32(1)  // lower bound
    }

    /// Writes the trailer and sends what is left.
    mutating func finish() throws {
        try reserve(2)
        put(0xFF)
        put(0xFF)
        try flush()
    }

    mutating func flush() throws {
        guard count > 0 else { return }
        let status = storage.withMemoryRebound(to: CChar.self, capacity: count) { PQputCopyData(handle, $0, Int32(count)) }
        guard status == 1 else {
            let message = String(cString: PQerrorMessage(handle))
            throw PostgresError(code: PQstatus(handle) == CONNECTION_BAD ? .connectionLost : .copyFailed, message: message)
        }
        count = 0
    }
}
