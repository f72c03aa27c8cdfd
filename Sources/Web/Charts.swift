import Foundation

/// Charts drawn on the server as inline SVG: no JavaScript, readable by screen readers (each chart
/// has a title and a text alternative), printable. Values are percentages unless said otherwise.
public enum Charts {
    /// One series of a line chart: points as (x in 0...1, y in percent).
    public struct Series: Sendable {
        public var label: String
        public var points: [(x: Double, y: Double)]
        public var dashed: Bool
        public var colour: String
        public init(label: String, points: [(x: Double, y: Double)], dashed: Bool = false, colour: String = "#005eb8") {
            self.label = label
            self.points = points
            self.dashed = dashed
            self.colour = colour
        }
    }

    /// A line chart of percentages over a period, with optional horizontal guide lines (thresholds or a target),
    /// the period's first and last dates under the axis, a "today" marker (x in 0...1) and a legend that tells
    /// the series apart by line style as well as colour. Text is 12 px.
    public static func lines(
        title: String, series: [Series], guides: [(label: String, y: Double)] = [], width: Int = 360, height: Int = 160,
        xLabels: (start: String, end: String)? = nil, today: Double? = nil
    ) -> String {
        let shown = series.filter { !$0.points.isEmpty }
        let legend = shown.count > 1 || !guides.isEmpty
        let left = 40.0, right = 10.0, top = 10.0, bottom = (xLabels == nil ? 8.0 : 22.0) + (legend ? 20.0 : 0)
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        func x(_ v: Double) -> Double { left + max(0, min(1, v)) * w }
        func y(_ v: Double) -> Double { top + (1 - max(0, min(100, v)) / 100) * h }
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' role='img' width='\(width)' height='\(height)' viewBox='0 0 \(width) \(height)' font-size='12'>"
        svg += "<title>\(escape(title))</title>"
        svg += "<rect x='\(left)' y='\(top)' width='\(w)' height='\(h)' fill='#fff' stroke='#aeb7bd'/>"
        for tick in [0.0, 25, 50, 75, 100] {
            if tick > 0 && tick < 100 { svg += "<line x1='\(left)' x2='\(left + w)' y1='\(f(y(tick)))' y2='\(f(y(tick)))' stroke='#e8edee'/>" }
            svg += "<text x='\(left - 4)' y='\(f(y(tick) + 4))' text-anchor='end' fill='#4c6272'>\(Int(tick))%</text>"
        }
        for g in guides {
            svg += "<line x1='\(left)' x2='\(left + w)' y1='\(f(y(g.y)))' y2='\(f(y(g.y)))' stroke='#212b32' stroke-dasharray='1 3'/>"
            svg += "<text x='\(left + w - 2)' y='\(f(y(g.y) - 3))' text-anchor='end' fill='#212b32'>\(escape(g.label)) \(Int(g.y.rounded()))%</text>"
        }
        if let today, today >= 0, today <= 1 {
            svg += "<line x1='\(f(x(today)))' x2='\(f(x(today)))' y1='\(top)' y2='\(top + h)' stroke='#d5281b' stroke-width='1.5'/>"
            svg += "<text x='\(f(x(today) + 3))' y='\(top + 12)' fill='#d5281b'>today</text>"
        }
        for s in shown {
            let path = s.points.map { "\(f(x($0.x))),\(f(y($0.y)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray='6 4'" : ""
            svg += "<polyline fill='none' stroke='\(s.colour)' stroke-width='2.5'\(dash) points='\(path)'><title>\(escape(s.label))</title></polyline>"
            if let p = s.points.last { svg += "<circle cx='\(f(x(p.x)))' cy='\(f(y(p.y)))' r='3' fill='\(s.colour)'/>" }
        }
        if let xLabels {
            svg += "<text x='\(left)' y='\(f(top + h + 16))' fill='#4c6272'>\(escape(xLabels.start))</text>"
            svg += "<text x='\(left + w)' y='\(f(top + h + 16))' text-anchor='end' fill='#4c6272'>\(escape(xLabels.end))</text>"
        }
        if legend {
            var lx = left
            let ly = Double(height) - 6
            for s in shown {
                let dash = s.dashed ? " stroke-dasharray='6 4'" : ""
                svg += "<line x1='\(f(lx))' x2='\(f(lx + 24))' y1='\(f(ly - 4))' y2='\(f(ly - 4))' stroke='\(s.colour)' stroke-width='2.5'\(dash)/>"
                svg += "<text x='\(f(lx + 28))' y='\(f(ly))' fill='#212b32'>\(escape(s.label))</text>"
                lx += 40 + Double(s.label.count) * 7
            }
            if !guides.isEmpty {
                svg += "<line x1='\(f(lx))' x2='\(f(lx + 24))' y1='\(f(ly - 4))' y2='\(f(ly - 4))' stroke='#212b32' stroke-dasharray='1 3'/>"
                svg += "<text x='\(f(lx + 28))' y='\(f(ly))' fill='#212b32'>\(escape(guides.map(\.label).joined(separator: ", ")))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// Horizontal bars for a funnel or a breakdown: each bar's length is its value over `scale`.
    public static func bars(title: String, rows: [(label: String, value: Double?, text: String)], scale: Double, width: Int = 480) -> String {
        let rowHeight = 22.0, labelWidth = 210.0
        let height = Int(Double(rows.count) * rowHeight + 4)
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' role='img' width='\(width)' height='\(height)' viewBox='0 0 \(width) \(height)'>"
        svg += "<title>\(escape(title))</title>"
        let barSpace = Double(width) - labelWidth - 70
        for (i, r) in rows.enumerated() {
            let top = Double(i) * rowHeight + 2
            svg += "<text x='0' y='\(top + 14)' font-size='12' fill='#212b32'>\(escape(r.label))</text>"
            let length = scale > 0 ? max(0, min(1, (r.value ?? 0) / scale)) * barSpace : 0
            svg += "<rect x='\(labelWidth)' y='\(top + 3)' width='\(f(length))' height='14' fill='\(r.value == nil ? "#d8dde0" : "#005eb8")'/>"
            svg += "<text x='\(f(labelWidth + length + 4))' y='\(top + 14)' font-size='12' fill='#212b32'>\(escape(r.text))</text>"
        }
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Escapes text for HTML or SVG.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
