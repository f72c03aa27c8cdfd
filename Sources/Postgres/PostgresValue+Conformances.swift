import Foundation

// Encodings and decodings of the Swift types qofd stores. Text format both ways: the server casts
// parameters from the column's type, and text results are exact for numeric and date types.

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresBinding: PostgresBinding { self?.postgresBinding ?? .null }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        self = .some(try Wrapped(postgresText: bytes, type: type))
    }
    public static var postgresNull: Self? { .some(.none) }
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(self) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        self = String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring: PostgresEncodable {
    public var postgresBinding: PostgresBinding { .text(String(self)) }
}

/// Parses a signed decimal integer from ASCII bytes without allocating.
func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
    guard !bytes.isEmpty else { return nil }
    var i = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if bytes[0] == UInt8(ascii: "+") { i = 1 }
    guard i < bytes.count else { return nil }
    var value: Int64 = 0
    while i < bytes.count {
        let d = bytes[i] &- 48
        guard d < 10 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
        guard !o1, !o2 else { return nil }
        value = s
        i += 1
    }
    return value
}

extension FixedWidthInteger where Self: SignedInteger {
    init(postgresInteger bytes: UnsafeRawBufferPointer) throws {
        guard let v = parseInteger(bytes), let narrowed = Self(exactly: v) else {
            throw decodingError("not an integer of \(Self.self): \(String(decoding: bytes, as: UTF8.self))")
        }
        self = narrowed
    }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(String(self)) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        try self.init(postgresInteger: bytes)
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(String(self)) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        try self.init(postgresInteger: bytes)
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(String(self)) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        try self.init(postgresInteger: bytes)
    }
}

extension Int16: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(String(self)) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        try self.init(postgresInteger: bytes)
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding {
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self > 0 ? "Infinity" : "-Infinity") }
        return .text("\(self)")
    }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let v = Double(text) else { throw decodingError("not a number: \(text)") }
            self = v
        }
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(self ? "t" : "f") }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        guard bytes.count == 1 else { throw decodingError("not a boolean") }
        switch bytes[0] {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: throw decodingError("not a boolean")
        }
    }
}

extension Decimal: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(NSDecimalNumber(decimal: self).description(withLocale: nil)) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let v = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw decodingError("not a decimal: \(text)")
        }
        self = v
    }
}

extension PostgresDate: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(description) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let d = PostgresDate(iso: text) else { throw decodingError("not an ISO date: \(text)") }
        self = d
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// Sent as an ISO 8601 instant in UTC with microseconds.
    public var postgresBinding: PostgresBinding {
        let seconds = timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded())
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        let p = c.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
        let date = PostgresDate(year: p.year!, month: p.month!, day: p.day!)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = String(micros + 1_000_000).dropFirst()
        return .text("\(date) \(two(p.hour!)):\(two(p.minute!)):\(two(p.second!)).\(frac)+00")
    }

    /// Decodes `timestamptz` / `timestamp` text in ISO DateStyle (the session sets DateStyle=ISO, TimeZone=UTC).
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let d = parseISOTimestamp(text) else { throw decodingError("not a timestamp: \(text)") }
        self = d
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]` (PostgreSQL's ISO output); no offset means UTC.
func parseISOTimestamp(_ text: String) -> Date? {
    let u = Array(text.utf8)
    guard u.count >= 19, u[10] == UInt8(ascii: " ") || u[10] == UInt8(ascii: "T") else { return nil }
    func num(_ a: Int, _ b: Int) -> Int? {
        var v = 0
        for i in a..<b {
            let d = Int(u[i]) - 48
            guard d >= 0, d < 10 else { return nil }
            v = v * 10 + d
        }
        return v
    }
    guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
        let s = num(17, 19)
    else { return nil }
    var i = 19
    var fraction = 0.0
    if i < u.count, u[i] == UInt8(ascii: ".") {
        i += 1
        var scale = 0.1
        while i < u.count, u[i] >= 48, u[i] <= 57 {
            fraction += Double(u[i] - 48) * scale
            scale /= 10
            i += 1
        }
    }
    var offsetSeconds = 0
    if i < u.count {
        let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
        guard u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-"), i + 3 <= u.count, let oh = num(i + 1, i + 3)
        else { return nil }
        var om = 0
        if i + 6 <= u.count, u[i + 3] == UInt8(ascii: ":"), let m = num(i + 4, i + 6) { om = m }
        offsetSeconds = sign * (oh * 3600 + om * 60)
    }
    let days = daysFromCivil(year: y, month: mo, day: d)
    let seconds = Double(days * 86_400 + h * 3600 + mi * 60 + s - offsetSeconds) + fraction
    return Date(timeIntervalSince1970: seconds)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

extension Array: PostgresEncodable where Element == UInt8 {
    public var postgresBinding: PostgresBinding { .binary(self) }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Decodes bytea in hex output format (`\x0a1b…`), PostgreSQL's default since 9.0.
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0
        else { throw decodingError("bytea not in hex format") }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity((bytes.count - 2) / 2)
        var i = 2
        while i < bytes.count {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else {
                throw decodingError("bad hex digit in bytea")
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        self = out
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresBinding: PostgresBinding { .text(uuidString) }
    public init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) throws {
        guard let u = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else { throw decodingError("not a uuid") }
        self = u
    }
}

/// Text arrays, for `= ANY($1)`.
extension Array where Element == String {
    public var postgresArray: PostgresArrayLiteral { PostgresArrayLiteral(self) }
}

/// A one-dimensional array parameter in PostgreSQL's array literal syntax (`{"a","b"}`).
public struct PostgresArrayLiteral: PostgresEncodable {
    public let elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }
    public var postgresBinding: PostgresBinding {
        let quoted = elements.map { e -> String in
            guard let e else { return "NULL" }
            var s = "\""
            for ch in e.unicodeScalars {
                if ch == "\"" || ch == "\\" { s.unicodeScalars.append("\\") }
                s.unicodeScalars.append(ch)
            }
            return s + "\""
        }
        return .text("{" + quoted.joined(separator: ",") + "}")
    }
}
