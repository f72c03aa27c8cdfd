import Foundation
import Storage

/// The benchmark's figures: per page p50/p95/p99 (all openings, and first openings alone), the history's
/// size per practice-year; printed as a table and written as JSON beside the other benchmark results.
struct Report {
    let timings: [String: [(ms: Double, cold: Bool)]]
    let totalBytes: Int64
    let archiveBytes: Int64
    let practices: Int
    let runs: Int64
    let tables: [DatabaseSize.Table]
    let generationSeconds: Double
    let settings: (practices: Int, patients: Int, weeks: Int, sample: Int, repeats: Int)
    let longestWorklist: Int
    static let order = ["home", "practice dashboard", "indicator + worklist", "worklist CSV", "patient explanation",
                        "practice inequalities", "PCN page", "PCN inequalities"]

    /// Nearest-rank percentile.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
    }

    var rows: [(page: String, n: Int, p50: Double, p95: Double, p99: Double, max: Double, coldP95: Double?)] {
        Self.order.compactMap { page in
            guard let t = timings[page] else { return nil }
            let all = t.map(\.ms)
            let cold = t.filter(\.cold).map(\.ms)
            return (page, all.count, Self.percentile(all, 50), Self.percentile(all, 95), Self.percentile(all, 99), all.max() ?? .nan,
                    cold.isEmpty ? nil : Self.percentile(cold, 95))
        }
    }

    var perPracticeYear: Double { Double(totalBytes) / Double(max(1, practices)) * 52 / Double(settings.weeks) }

    func print(_ log: (String) -> Void) {
        log("")
        log("| Page | openings | p50 ms | p95 ms | p99 ms | max ms | first openings p95 ms | p95 < 200 ms |")
        log("|---|---|---|---|---|---|---|---|")
        for r in rows {
            log(String(format: "| %@ | %d | %.1f | %.1f | %.1f | %.1f | %@ | %@ |", r.page, r.n, r.p50, r.p95, r.p99, r.max,
                       r.coldP95.map { String(format: "%.1f", $0) } ?? "–", r.p95 < 200 ? "yes" : "**no**"))
        }
        log(String(format: "\nDatabase: %.2f GiB for %d practices × %d weeks (%lld runs): %.1f MiB per practice-year; longest worklist opened: %d patients",
                   Double(totalBytes) / 1_073_741_824, practices, settings.weeks, runs, perPracticeYear / 1_048_576, longestWorklist))
    }

    func write(to directory: URL) throws {
        let commit = (try? String(contentsOfFile: ".git/HEAD", encoding: .utf8)).flatMap { head -> String? in
            let ref = head.trimmingCharacters(in: .whitespacesAndNewlines)
            guard ref.hasPrefix("ref: ") else { return String(ref.prefix(7)) }
            return (try? String(contentsOfFile: ".git/" + ref.dropFirst(5), encoding: .utf8)).map { String($0.prefix(7)) }
        } ?? "unknown"
        let day = ISO8601DateFormatter().string(from: Date()).prefix(10)
        let object: [String: Any] = [
            "commit": commit, "date": ISO8601DateFormatter().string(from: Date()),
            "settings": ["practices": settings.practices, "patientsPerPractice": settings.patients, "weeks": settings.weeks,
                         "sampledPractices": settings.sample, "repeats": settings.repeats],
            "pages": rows.map { r -> [String: Any] in
                ["page": r.page, "openings": r.n, "p50ms": r.p50, "p95ms": r.p95, "p99ms": r.p99, "maxms": r.max, "firstOpeningsP95ms": r.coldP95 ?? NSNull()]
            },
            "database": ["bytes": totalBytes, "bytesPerPracticeYear": perPracticeYear, "runs": runs, "archiveBytes": archiveBytes,
                         "tables": tables.prefix(8).map { ["name": $0.name, "bytes": $0.bytes, "rows": $0.rows] }],
            "generationSeconds": generationSeconds, "longestWorklist": longestWorklist,
        ]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appending(path: "web-\(day)-\(commit).json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: file)
        Swift.print("results: \(file.path)")
    }
}
