import Clinical
import Foundation
import RulesEngine

/// How figures read on the pages: pounds with thousands separators, percentages to one place,
/// traffic lights with words as well as colours.
enum Format {
    static func pounds(_ x: Double) -> String {
        let fixed = String(format: "%.2f", abs(x))
        let parts = fixed.split(separator: ".")
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        return (x < 0 ? "-" : "") + whole + grouped + "." + parts[1]
    }

    static func points(_ x: Double) -> String { String(format: "%.2f", x) }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0) } ?? "–" }

    static func change(_ x: Double?) -> String { x.map { String(format: "%+.1f points", $0) } ?? "no run last year" }

    /// A traffic light: QOF against its thresholds, a vaccination cohort against its target.
    static func rag(_ achievement: Double?, indicator: Indicator) -> (String, String) {
        guard let a = achievement else { return ("none", "No patients") }
        if let target = indicator.target?.percent {
            if a >= target { return ("green", "Target met") }
            return a >= target - 10 ? ("amber", "Within 10 points of target") : ("red", "Below target")
        }
        if a >= indicator.upperThreshold { return ("green", "At or above upper threshold") }
        return a > indicator.lowerThreshold ? ("amber", "Between thresholds") : ("red", "At or below lower threshold")
    }

    /// The breadcrumb trail to a page: Home, then each step (label, address).
    static func crumbs(_ steps: (String, String)...) -> [[String: String]] {
        [["label": "Home", "href": "/"]] + steps.map { ["label": $0.0, "href": $0.1] }
    }

    static func daysLeft(to end: Day, today: Day) -> String {
        let n = Int(end.daysSinceEpoch - today.daysSinceEpoch)
        if n > 0 { return "\(n) day\(n == 1 ? "" : "s") left to the period end (\(end))" }
        if n == 0 { return "the period ends today (\(end))" }
        return "the period ended on \(end)"
    }
}
