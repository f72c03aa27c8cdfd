import Clinical
import Foundation
import Postgres
import Reports
import RulesEngine
import Storage

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
        let practices = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
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
        return repaired + (await rewriteMissingOrStale(using: conn, now: now))
    }

    /// Reports are derived data: every stored run of the current and previous QOF year must have its report
    /// in every format, written after the run was stored. A fault between the commit and the report writing,
    /// or a full disk, leaves one missing or older than its run; this rewrites those from the database.
    /// - Returns: the (practice, ruleset, date) reports rewritten.
    func rewriteMissingOrStale(using conn: PostgresConnection, now: Date) async -> Int {
        guard let directory = processor.reportsDirectory else { return 0 }
        let rulesets = Dictionary(processor.rulesets.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let today = Day(daysSinceEpoch: Int32(now.timeIntervalSince1970 / 86_400))
        let c = today.components
        let since = Day(year: c.month >= 4 ? c.year - 1 : c.year - 2, month: 4, day: 1) ?? today
        guard let runs = try? await conn.withTransaction({ cn in
            try PracticeHistory.reportableRuns(rulesets: Array(rulesets.keys), since: since, in: cn)
        }) else { return 0 }
        var rewritten = 0
        for run in runs {
            let folder = directory.appending(path: run.practice)
            let due = ReportFormat.allCases.contains { format in
                let path = folder.appending(path: "\(run.ruleset)-\(run.achievementDate).\(format.fileExtension)").path
                guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date else { return true }
                return modified.timeIntervalSince1970 + 1 < run.finishedAt
            }
            guard due, let rs = rulesets[run.ruleset] else { continue }
            await processor.writeReports(practice: run.practice, for: [(rs, run.achievementDate)], using: conn)
            logger.notice("rewrote a missing or stale report", metadata: ["practice": "\(run.practice)", "ruleset": "\(run.ruleset)", "date": "\(run.achievementDate)"])
            rewritten += 1
        }
        return rewritten
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
