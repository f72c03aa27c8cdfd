import Testing
@testable import Web

@Suite("Small-number suppression beyond the practice")
struct SuppressionTests {
    @Test("counts of 1 to 7 are suppressed, 0 is shown, others round to the nearest 5")
    func rounding() {
        #expect(Suppression.shown(0) == 0)
        for n in 1...7 { #expect(Suppression.shown(n) == nil) }
        #expect(Suppression.shown(8) == 10)
        #expect(Suppression.shown(12) == 10)
        #expect(Suppression.shown(13) == 15)
        #expect(Suppression.shown(102) == 100)
    }

    @Test("percentages come from the rounded counts and are withheld when a count is suppressed")
    func percentages() {
        #expect(Suppression.percent(5, of: 40) == nil)
        #expect(Suppression.percent(12, of: 18) == 50)
        #expect(Suppression.percent(0, of: 20) == 0)
    }
}
