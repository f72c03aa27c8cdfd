import Testing
@testable import Web

/// Charts people can read: 12 px text, axis in percent, the period's dates, a "today" marker, and a legend
/// that tells this year from last year by line style, not colour alone.
@Suite("Readable charts")
struct ChartTests {
    @Test("a trend has a legend, dated axis, today marker and no text under 12 px")
    func readable() {
        let svg = Charts.lines(
            title: "HYP008 achievement", series: [Charts.Series(label: "this year", points: [(0.1, 40), (0.5, 55)]),
                                                  Charts.Series(label: "last year", points: [(0.1, 35), (0.9, 70)], dashed: true, colour: "#768692")],
            guides: [("lower", 40), ("upper", 77)], xLabels: ("2025-04-01", "2026-03-31"), today: 0.6)
        #expect(svg.contains("font-size='12'"))
        #expect(!svg.contains("font-size='8'") && !svg.contains("font-size='9'") && !svg.contains("font-size='10'") && !svg.contains("font-size='11'"))
        #expect(svg.contains(">this year</text>") && svg.contains(">last year</text>"), "a legend")
        #expect(svg.contains("stroke-dasharray='6 4'"), "last year dashed, in the lines and the legend")
        #expect(svg.contains(">today</text>") && svg.contains(">2025-04-01</text>") && svg.contains(">2026-03-31</text>") && svg.contains(">100%</text>"))
        #expect(svg.contains(">upper 77%</text>"))
        let noToday = Charts.lines(title: "t", series: [Charts.Series(label: "a", points: [(0.1, 1)])], today: 1.5)
        #expect(!noToday.contains(">today<"), "no marker outside the period")
    }
}
