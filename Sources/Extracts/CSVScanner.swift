/// A byte-level RFC 4180 tokenizer over a whole file in memory.
///
/// Fields are kept as byte ranges until a value is needed (no `String` per field); numbers and
/// dates are parsed from the bytes. Handles quoted fields with `""` escapes and embedded commas
/// and newlines, LF and CRLF line ends, and a leading UTF-8 byte-order mark. A malformed record is
/// reported with its line and column and skipped; an unterminated quote at the end of the file is
/// reported as truncation.
import Foundation

struct CSVScanner: ~Copyable {
    /// A field as a byte range; `escaped` means it was quoted and contains `""` pairs to undo.
    struct Field {
        var start: Int
        var end: Int
        var escaped: Bool
    }

    enum Outcome {
        case record
        case malformed(column: Int, reason: String)
        case truncated(reason: String)
        case end
    }

    let bytes: UnsafeRawBufferPointer
    /// No `"` anywhere in the file (the usual extract): every record is one line, split at its commas.
    let quoteFree: Bool
    private(set) var position: Int
    /// The 1-based line where the record just returned starts.
    private(set) var recordLine = 0
    private var nextLine = 1
    /// The fields of the current record (`fieldCount` of them); a record has at most `maxFields`.
    private let fieldStorage: UnsafeMutablePointer<Field>
    private(set) var fieldCount = 0
    static let maxFields = 64

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        position = start
        quoteFree = bytes.isEmpty || memchr(bytes.baseAddress!, 34, bytes.count) == nil
        fieldStorage = .allocate(capacity: Self.maxFields)
    }

    deinit { fieldStorage.deallocate() }

    @inline(__always) private mutating func appendField(_ f: Field) -> Bool {
        guard fieldCount < Self.maxFields else { return false }
        fieldStorage[fieldCount] = f
        fieldCount += 1
        return true
    }

    /// Reads the next record into `fields`. Blank lines are skipped.
    mutating func next() -> Outcome {
        let n = bytes.count
        // Skip blank lines.
        while position < n, bytes[position] == 10 || (bytes[position] == 13 && position + 1 < n && bytes[position + 1] == 10) {
            position += bytes[position] == 13 ? 2 : 1
            nextLine += 1
        }
        guard position < n else { return .end }
        fieldCount = 0
        recordLine = nextLine
        if quoteFree { return nextUnquoted(n) }
        var column = 1
        while true {
            if position < n, bytes[position] == 34 {  // quoted field
                let quoteLine = nextLine
                position += 1
                let start = position
                var escaped = false
                while true {
                    guard position < n else {
                        return .truncated(reason: "quoted field opened on line \(quoteLine) is never closed (file truncated?)")
                    }
                    let b = bytes[position]
                    if b == 34 {
                        if position + 1 < n, bytes[position + 1] == 34 {
                            escaped = true
                            position += 2
                            continue
                        }
                        break
                    }
                    if b == 10 { nextLine += 1 }
                    position += 1
                }
                guard appendField(Field(start: start, end: position, escaped: escaped)) else {
                    skipLine()
                    return .malformed(column: column, reason: "more than \(Self.maxFields) fields")
                }
                position += 1  // closing quote
                if position >= n { nextLine += 1; return .record }
                let b = bytes[position]
                if b == 44 { position += 1; column += 1; continue }
                if b == 10 { position += 1; nextLine += 1; return .record }
                if b == 13, position + 1 < n, bytes[position + 1] == 10 { position += 2; nextLine += 1; return .record }
                skipLine()
                return .malformed(column: column, reason: "text after a closing quote")
            } else {  // unquoted field: scan to comma or line end
                let start = position
                while position < n {
                    let b = bytes[position]
                    if b == 44 || b == 10 { break }
                    if b == 34 {
                        skipLine()
                        return .malformed(column: column, reason: "a quote inside an unquoted field")
                    }
                    position += 1
                }
                var end = position
                if position < n, bytes[position] == 10, end > start, bytes[end - 1] == 13 { end -= 1 }
                guard appendField(Field(start: start, end: end, escaped: false)) else {
                    skipLine()
                    return .malformed(column: column, reason: "more than \(Self.maxFields) fields")
                }
                if position >= n { nextLine += 1; return .record }
                if bytes[position] == 44 { position += 1; column += 1; continue }
                position += 1
                nextLine += 1
                return .record
            }
        }
    }

    /// A record of a file without quotes: find the line's end, then its commas.
    private mutating func nextUnquoted(_ n: Int) -> Outcome {
        let base = bytes.baseAddress!
        let lineEnd = memchr(base + position, 10, n - position).map { UnsafeRawPointer($0) - base } ?? n
        var end = lineEnd
        if lineEnd < n, end > position, base.load(fromByteOffset: end - 1, as: UInt8.self) == 13 { end -= 1 }
        var start = position
        var i = position
        // Eight bytes at a time: flag the bytes equal to ',' (a zero byte of w ^ ",,,,,,,,", by the
        // classic has-zero-byte test, whose rare false flags above a real one are checked away).
        while i + 8 <= end {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ 0x2C2C_2C2C_2C2C_2C2C
            var flags = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
            while flags != 0 {
                let at = i + flags.trailingZeroBitCount >> 3
                flags &= flags &- 1
                guard base.load(fromByteOffset: at, as: UInt8.self) == 44 else { continue }
                guard appendField(Field(start: start, end: at, escaped: false)) else { return tooManyFields(lineEnd, n) }
                start = at + 1
            }
            i += 8
        }
        while i < end {
            if base.load(fromByteOffset: i, as: UInt8.self) == 44 {
                guard appendField(Field(start: start, end: i, escaped: false)) else { return tooManyFields(lineEnd, n) }
                start = i + 1
            }
            i += 1
        }
        position = min(lineEnd + 1, n)
        nextLine += 1
        guard appendField(Field(start: start, end: end, escaped: false)) else {
            return .malformed(column: fieldCount + 1, reason: "more than \(Self.maxFields) fields")
        }
        return .record
    }

    private mutating func tooManyFields(_ lineEnd: Int, _ n: Int) -> Outcome {
        position = min(lineEnd + 1, n)
        nextLine += 1
        return .malformed(column: fieldCount + 1, reason: "more than \(Self.maxFields) fields")
    }

    private mutating func skipLine() {
        while position < bytes.count, bytes[position] != 10 { position += 1 }
        if position < bytes.count { position += 1 }
        nextLine += 1
    }

    /// The raw bytes of field `i` (quotes removed; `""` pairs still doubled when `escaped`).
    @inline(__always) func raw(_ i: Int) -> UnsafeRawBufferPointer {
        let f = fieldStorage[i]
        return UnsafeRawBufferPointer(start: bytes.baseAddress.map { $0 + f.start }, count: f.end - f.start)
    }

    /// True when field `i` was quoted with `""` pairs inside (its raw bytes are not its value).
    @inline(__always) func isEscaped(_ i: Int) -> Bool { fieldStorage[i].escaped }

    /// Field `i` as a String, with `""` escapes undone.
    func string(_ i: Int) -> String {
        let f = fieldStorage[i]
        let text = String(decoding: raw(i), as: UTF8.self)
        return f.escaped ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
    }
}
