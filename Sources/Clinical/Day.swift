/// A calendar date with no time and no time zone, stored as days since 1970-01-01.
///
/// QOF rules are written in calendar dates ("in the 12 months up to and including 31 March"), and
/// comparing two `Int32`s is what makes scanning millions of events cheap.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public var daysSinceEpoch: Int32

    public init(daysSinceEpoch: Int32) { self.daysSinceEpoch = daysSinceEpoch }

    /// A valid Gregorian date; nil for 2026-02-30 and the like.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Day.daysIn(month: month, year: year)
        else { return nil }
        if year >= 1900, year < 2100 {
            daysSinceEpoch = Day.monthStarts[(year - 1900) * 12 + month - 1] + Int32(day - 1)
        } else {
            daysSinceEpoch = Int32(Day.daysFromCivil(year, month, day))
        }
    }

    /// Days since the epoch of the first of each month, January 1900 to December 2099: the dates extracts
    /// are made of become days by one look-up (millions per extract) instead of civil-date arithmetic.
    private static let monthStarts: [Int32] = (0..<2400).map { Int32(daysFromCivil(1900 + $0 / 12, $0 % 12 + 1, 1)) }

    /// Parses `YYYY-MM-DD` strictly (also accepts a trailing time part `THH:MM...` when `allowTime`).
    public init?(iso bytes: UnsafeRawBufferPointer, allowTime: Bool = false) {
        guard bytes.count == 10 || (allowTime && bytes.count > 10 && bytes[10] == UInt8(ascii: "T")) else { return nil }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func digits(_ from: Int, _ to: Int) -> Int? {
            var v = 0
            for i in from..<to {
                let d = Int(bytes[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let y = digits(0, 4), let m = digits(5, 7), let d = digits(8, 10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Parses `YYYY-MM-DD` from a string.
    public init?(iso text: String) {
        var text = text
        guard let day = text.withUTF8({ Day(iso: UnsafeRawBufferPointer($0), allowTime: true) }) else { return nil }
        self = day
    }

    public var components: (year: Int, month: Int, day: Int) {
        Day.civilFromDays(Int(daysSinceEpoch))
    }

    public var year: Int { components.year }

    public var description: String {
        let c = components
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }

    public static func < (a: Day, b: Day) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    /// The same day `n` days later (earlier for negative `n`). Never traps: the result is held to the range
    /// of `Day` (`distantPast` … `distantFuture`).
    public func adding(days n: Int) -> Day {
        let (sum, overflow) = Int(daysSinceEpoch).addingReportingOverflow(n)
        return Day(daysSinceEpoch: overflow ? (n < 0 ? Int32.min : Int32.max) : Int32(clamping: sum))
    }

    /// The same day of the month `n` months later; clamped to the month's last day
    /// (31 March minus one month is 28/29 February). Works for any year, before year 1 too (proleptic
    /// Gregorian), and never traps: whatever date a record carries, date arithmetic on it has an answer.
    public func adding(months n: Int) -> Day {
        let c = components
        let (total, overflow) = (c.year * 12 + (c.month - 1)).addingReportingOverflow(n)
        guard !overflow, abs(total) < 12 * 6_000_000 else { return n < 0 ? .distantPast : .distantFuture }
        let y = total >= 0 ? total / 12 : (total - 11) / 12   // floor division: months before year 0 too
        let m = total - y * 12 + 1
        let d = min(c.day, Day.daysIn(month: m, year: y))
        return Day(daysSinceEpoch: Int32(clamping: Day.daysFromCivil(y, m, d)))
    }

    /// The same day `n` years later; 29 February becomes 28 February in a common year.
    public func adding(years n: Int) -> Day { adding(months: 12 * n) }

    /// Age in whole years on `day` for someone born on `self` (birthday on 29 February counts
    /// from 1 March in common years).
    public func age(on day: Day) -> Int {
        let b = components
        let d = day.components
        var age = d.year - b.year
        if (d.month, d.day) < (b.month, b.day) { age -= 1 }
        return age
    }

    /// The earliest date a clinical record may carry (1 January 1850): anything earlier is a data error,
    /// reported as a row problem, never a date the rules compute with.
    public static let earliestRecord = Day(daysSinceEpoch: Int32(daysFromCivil(1850, 1, 1)))

    /// A day before every clinical record (used for "none").
    /// (Computed, not stored: a stored static is initialised lazily and checked on every use.)
    @inlinable public static var distantPast: Day { Day(daysSinceEpoch: Int32.min) }
    /// A day after every clinical record (an open registration's end).
    @inlinable public static var distantFuture: Day { Day(daysSinceEpoch: Int32.max) }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28  // Swift's % keeps the sign: fine for leap tests
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil-date algorithms.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
