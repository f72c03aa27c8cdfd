import Clinical
import Testing

@Suite("Calendar days")
struct DayTests {
    @Test("impossible dates are refused", arguments: ["2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-4-1", "26-04-01"])
    func impossible(_ text: String) {
        #expect(Day(iso: text) == nil || text.count != 10)
    }

    @Test("leap days exist only in leap years")
    func leap() {
        #expect(Day(year: 2024, month: 2, day: 29) != nil)
        #expect(Day(year: 2100, month: 2, day: 29) == nil)
        #expect(Day(year: 2000, month: 2, day: 29) != nil)
    }

    @Test("months are added calendar-wise and clamped to the month's end")
    func addingMonths() {
        let pped = Day(year: 2026, month: 3, day: 31)!
        #expect(pped.adding(months: -12).description == "2025-03-31")
        #expect(pped.adding(months: -1).description == "2026-02-28")
        #expect(pped.adding(months: -9).description == "2025-06-30")
        #expect(Day(year: 2024, month: 2, day: 29)!.adding(years: 1).description == "2025-02-28")
    }

    @Test("age is in whole years on the day, birthday counting")
    func age() {
        let pped = Day(year: 2026, month: 3, day: 31)!
        #expect(Day(year: 1946, month: 3, day: 31)!.age(on: pped) == 80)
        #expect(Day(year: 1946, month: 4, day: 1)!.age(on: pped) == 79)
        #expect(Day(year: 2008, month: 2, day: 29)!.age(on: Day(year: 2026, month: 2, day: 28)!) == 17)
        #expect(Day(year: 2008, month: 2, day: 29)!.age(on: Day(year: 2026, month: 3, day: 1)!) == 18)
    }

    @Test("NHS numbers: Modulus 11", arguments: [("9434765919", true), ("9434765918", false), ("943476591", false), ("943476591X", false)])
    func nhsNumber(_ text: String, _ valid: Bool) {
        #expect(NHSNumber.isValid(text) == valid)
    }
}

/// Date arithmetic has an answer for every date a record or an option can carry: it never traps.
@Suite("Calendar arithmetic never traps")
struct DayArithmeticTests {
    @Test("months and days added to any day, year 1 to 9999 and the sentinels, agree with the calendar and never trap")
    func anyDay() {
        var rng = SystemRandomNumberGenerator()
        let shifts = [-1_200, -120, -24, -13, -12, -3, -1, 0, 1, 3, 12, 120, 1_200, Int.min / 2, Int.max / 2]
        var days = [Day.distantPast, .distantFuture, Day(year: 1, month: 2, day: 15)!, Day(year: 1, month: 1, day: 1)!,
                    Day(year: 9999, month: 12, day: 31)!]
        for _ in 0..<2_000 { days.append(Day(daysSinceEpoch: Int32.random(in: -719_162...2_932_896, using: &rng))) }
        for d in days {
            for n in shifts {
                let m = d.adding(months: n)
                let e = d.adding(days: n)
                // Ordinary dates: the same day of the month n months on, clamped to the month's end.
                if abs(n) <= 1_200, d != .distantPast, d != .distantFuture {
                    let c = d.components, r = m.components
                    let total = c.year * 12 + c.month - 1 + n
                    #expect(r.year * 12 + r.month - 1 == total, "\(d) + \(n) months = \(m)")
                    #expect(r.day == min(c.day, Day.daysIn(month: r.month, year: r.year)))
                    #expect(Int(e.daysSinceEpoch) == Int(d.daysSinceEpoch) + n)
                }
            }
        }
        #expect(Day(year: 1, month: 2, day: 15)!.adding(months: -3).description == "0000-11-15")
        #expect(Day.distantPast.adding(days: -1) == .distantPast && Day.distantFuture.adding(days: 1) == .distantFuture)
    }
}

/// CSV files people open in spreadsheets never carry a live formula, whatever an extract held.
@Suite("CSV cells")
struct CSVCellTests {
    @Test("values that start like a formula are neutralised; commas and quotes are quoted; numbers stay numbers")
    func safeCells() {
        #expect(CSVCell.safe("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(CSVCell.safe("+44 1234") == "'+44 1234")
        #expect(CSVCell.safe("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVCell.safe("-cmd|' /C calc'!A0") == "'-cmd|' /C calc'!A0")
        #expect(CSVCell.safe("-12.5") == "-12.5")
        #expect(CSVCell.safe("a, b") == "\"a, b\"")
        #expect(CSVCell.safe("Y10001-28") == "Y10001-28")
        #expect(CSVCell.row(["x", "=1+1", "3"]) == "x,'=1+1,3")
    }
}
