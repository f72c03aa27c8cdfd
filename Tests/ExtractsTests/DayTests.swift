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
