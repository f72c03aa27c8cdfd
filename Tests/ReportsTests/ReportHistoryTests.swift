import Clinical
import Clusters
import Daemon
import Foundation
import Reports
import RulesEngine
import Synth
import Testing
import TestSupport

/// "Since last run" and "since last year" on the report compare like with like: the previous extract's run
/// of the same ruleset (weekly extracts have a new achievement date each week), and last year's run of the
/// same family (a flu run made the same day never stands in for a QOF one).
@Suite("A report's changes since the last run and since last year")
struct ReportHistoryTests {
    @Test("since the last run compares week with week; since last year reads the same ruleset family only")
    func changes() async throws {
        let library = try ClusterLibrary.bundled()
        let all = try RulesetLoader(library: library).loadAll()
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("history")
        defer { try? FileManager.default.removeItem(at: base) }
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        // QOF before flu: the flu run of 31 March 2025 is the later one of that day.
        let processor = ExtractProcessor(directories: dirs, rulesets: [all["qof-2024-25"]!, all["flu-2024-25"]!, all["qof-2025-26"]!],
                                         library: library, worker: "h")
        var o = Synthesizer.Options()
        o.seed = 71
        o.practices = 1
        o.patients = 1_500
        var ods = ""
        for dataTo in ["2025-03-31", "2026-03-24", "2026-03-31"] {
            o.dataTo = Day(iso: dataTo)!
            ods = try Synthesizer(library: library).write(o, to: dirs.inbox.appending(path: dataTo))[0].practice.ods
            for d in try FileManager.default.contentsOfDirectory(at: dirs.inbox.appending(path: dataTo), includingPropertiesForKeys: nil) {
                try FileManager.default.moveItem(at: d, to: dirs.inbox.appending(path: "\(dataTo)-\(d.lastPathComponent)"))
            }
            try FileManager.default.removeItem(at: dirs.inbox.appending(path: dataTo))
            for d in processor.pending() { _ = try await processor.process(d, using: conn) }
        }
        let report = try #require(try await ReportData.load(practice: ods, ruleset: all["qof-2025-26"]!, achievementDate: Day(iso: "2026-03-31")!, in: conn))
        let week = try #require(try await ReportData.load(practice: ods, ruleset: all["qof-2025-26"]!, achievementDate: Day(iso: "2026-03-24")!, in: conn))
        let lastYear = try #require(try await ReportData.load(practice: ods, ruleset: all["qof-2024-25"]!, achievementDate: Day(iso: "2025-03-31")!, in: conn))
        let hyp = try #require(report.indicators.first { $0.id == "HYP008" })
        let hypWeek = try #require(week.indicators.first { $0.id == "HYP008" })
        let hypLastYear = try #require(lastYear.indicators.first { $0.id == "HYP008" })
        // The previous week's run (another achievement date) is the last run.
        let sinceLastRun = try #require(hyp.changeSincePreviousRun, "a weekly extract has a last run")
        #expect(abs(sinceLastRun - ((hyp.achievement ?? 0) - (hypWeek.achievement ?? 0))) < 1e-9)
        // Last year is last year's QOF run, although the flu run of that day was stored after it.
        let sinceLastYear = try #require(hyp.changeSinceLastYear, "last year's QOF run is found")
        #expect(abs(sinceLastYear - ((hyp.achievement ?? 0) - (hypLastYear.achievement ?? 0))) < 1e-9)
        #expect(report.indicators.filter { $0.changeSinceLastYear != nil }.count > 20)
    }
}
