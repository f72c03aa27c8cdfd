import Clinical

/// One date's figures worked out once for a whole practice: the day some months before it (0 to 240 months)
/// and its calendar parts for ages. A summary asks these for every patient on the same date.
struct DateFrame: Sendable {
    let day: Day
    let monthsBack: [Int32]
    let parts: (year: Int, month: Int, day: Int)

    init(_ day: Day) {
        self.day = day
        monthsBack = (0...240).map { day.adding(months: -$0).daysSinceEpoch }
        parts = day.components
    }

    /// The day `months` before `d` (from the table when `d` is this frame's day).
    func before(_ months: Int, _ d: Day) -> Day {
        if d == day, months >= 0, months < monthsBack.count { return Day(daysSinceEpoch: monthsBack[months]) }
        return d.adding(months: -months)
    }

    /// Age in whole years on `d` of someone born on `birth` (as `Day.age(on:)`).
    func age(_ birth: Day, on d: Day) -> Int {
        guard d == day else { return birth.age(on: d) }
        let b = birth.components
        return parts.year - b.year - ((parts.month, parts.day) < (b.month, b.day) ? 1 : 0)
    }
}

extension DateFrame? {
    func before(_ months: Int, _ d: Day) -> Day { self?.before(months, d) ?? d.adding(months: -months) }
    func age(_ birth: Day, on d: Day) -> Int { self?.age(birth, on: d) ?? birth.age(on: d) }
}
