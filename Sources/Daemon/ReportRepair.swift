import Clinical
import Foundation
import Postgres
import Reports
import RulesEngine

extension Maintenance {
    /// Rewrites the reports a power cut left empty, and removes temporary report files a stopped writer
    /// left behind (older than ten minutes, so as not to race a writer at work).
    ///
    /// The daemon writes reports without forcing each file to disk (see `ReportWriter`): after a power
    /// cut, a report renamed into place in the last seconds may be empty. Run at start-up and with the
    /// nightly maintenance; only the daemon's own reports (`<ruleset>-<date>.<ext>`) are rewritten,
    /// for rulesets it is configured with.
    /// - Returns: the reports rewritten (one per practice, ruleset and date; every format of each).
    @discardableResult
    public func repairReports(using conn: PostgresConnection, now: Date = Date()) async -> Int {
        guard let directory = processor.reportsDirectory else { return 0 }
        let fm = FileManager.default
        guard let practices = try? fm.contentsOfDirectory(atPath: directory.path) else { return 0 }
        let rulesets = Dictionary(processor.rulesets.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var repaired = 0
        for ods in practices.sorted() where !ods.hasPrefix(".") {
            let folder = directory.appending(path: ods)
            guard let names = try? fm.contentsOfDirectory(atPath: folder.path) else { continue }
            var due = Set<Report>()
            for name in names {
                let path = folder.appending(path: name).path
                guard let attributes = try? fm.attributesOfItem(atPath: path) else { continue }
                if name.hasPrefix("."), name.hasSuffix(".tmp") {
                    if let modified = attributes[.modificationDate] as? Date, now.timeIntervalSince(modified) > 600 {
                        try? fm.removeItem(atPath: path)
                    }
                    continue
                }
                guard (attributes[.size] as? NSNumber)?.intValue == 0, let report = Report(fileName: name), rulesets[report.ruleset] != nil
                else { continue }
                due.insert(report)
            }
            for report in due.sorted(by: { ($0.ruleset, $0.date) < ($1.ruleset, $1.date) }) {
                await processor.writeReports(practice: ods, for: [(rulesets[report.ruleset]!, report.date)], using: conn)
                logger.notice("rewrote a report left empty", metadata: ["practice": "\(ods)", "ruleset": "\(report.ruleset)", "date": "\(report.date)"])
                repaired += 1
            }
        }
        return repaired
    }
}

/// A daemon report's name: `qof-2025-26-2026-03-31.html` is the ruleset and achievement date. Declared
/// and patient-level reports (`-declared`, `-subjects`) are written on request, not by the daemon.
struct Report: Hashable {
    let ruleset: String
    let date: Day

    /// Longest extension first: `cqrs.csv` before `csv`.
    private static let formats = ReportFormat.allCases.sorted { $0.fileExtension.count > $1.fileExtension.count }

    init?(fileName name: String) {
        guard let format = Self.formats.first(where: { name.hasSuffix("." + $0.fileExtension) })
        else { return nil }
        let stem = name.dropLast(format.fileExtension.count + 1)
        guard stem.count > 11, stem[stem.index(stem.endIndex, offsetBy: -11)] == "-",
            let date = Day(iso: String(stem.suffix(10)))
        else { return nil }
        ruleset = String(stem.dropLast(11))
        self.date = date
    }
}
