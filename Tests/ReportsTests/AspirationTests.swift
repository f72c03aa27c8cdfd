import Clinical
import Clusters
import Daemon
import Foundation
import Payments
import Reports
import RulesEngine
import Synth
import Testing
import TestSupport

/// The advance paid through the year (aspiration: a share of last year's year-end pounds) and the
/// balance due at year end, on the report (facts §3.4).
@Suite("Aspiration and balance on the report")
struct AspirationTests {
    @Test("last year's year-end pounds, the aspiration share of them paid in advance, and the balance at year end, stored with the run")
    func aspirationAndBalance() async throws {
        let library = try ClusterLibrary.bundled()
        let all = try RulesetLoader(library: library).loadAll()
        let (lastYear, thisYear) = (all["qof-2024-25"]!, all["qof-2025-26"]!)
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("aspiration")
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        let processor = ExtractProcessor(directories: dirs, rulesets: [lastYear, thisYear], library: library, worker: "a")
        var o = Synthesizer.Options()
        o.seed = 61
        o.practices = 1
        o.patients = 1_500
        // Last year's extract first, so its run comes before this year's.
        var ods = ""
        for dataTo in ["2025-03-31", "2026-03-31"] {
            o.dataTo = Day(iso: dataTo)!
            ods = try Synthesizer(library: library).write(o, to: dirs.inbox)[0].practice.ods
            for d in processor.pending() { _ = try await processor.process(d, using: conn) }
        }
        let previous = try #require(try await ReportData.load(practice: ods, ruleset: lastYear, achievementDate: Day(iso: "2025-03-31")!, in: conn))
        #expect(previous.pounds > 0)
        let share = try Payments.NationalFigures.load(year: thisYear.id).aspirationPercent / 100
        let report = try #require(try await ReportData.load(practice: ods, ruleset: thisYear, achievementDate: Day(iso: "2026-03-31")!, in: conn))
        let lastYearPounds = try #require(report.lastYearPounds)
        #expect(abs(lastYearPounds - previous.pounds) < 0.01)
        #expect(abs(try #require(report.aspiration) - share * previous.pounds) < 0.02)
        #expect(abs(try #require(report.balance) - (report.pounds - share * previous.pounds)) < 0.02)
        let html = try String(contentsOf: try #require(try ReportWriter.write(report, formats: [.html], to: base.appending(path: "r")).first),
                              encoding: .utf8)
        #expect(html.contains("Aspiration paid") && html.contains("Balance at year end"))
        // Without last year's run there is nothing to show.
        #expect(previous.lastYearPounds == nil && previous.aspiration == nil && previous.balance == nil)
    }

    @Test("a 2024/25 run stores an income-protected indicator at last year's points, and the report shows them")
    func protectedPointsStored() async throws {
        let library = try ClusterLibrary.bundled()
        let lastYear = try RulesetLoader(library: library).loadAll()["qof-2024-25"]!
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("protected")
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        var o = Synthesizer.Options()
        o.seed = 62
        o.practices = 1
        o.patients = 1_500
        o.dataTo = Day(iso: "2025-03-31")!
        let ods = try Synthesizer(library: library).write(o, to: dirs.inbox)[0].practice.ods
        let national = base.appending(path: "national")
        try FileManager.default.createDirectory(at: national, withIntermediateDirectories: true)
        try Data("ORG_CODE,IND_CODE,POINTS\n\(ods),QI013,20.5\n".utf8).write(to: national.appending(path: "qof-2024-25-income-protection.csv"))
        let processor = ExtractProcessor(directories: dirs, rulesets: [lastYear], library: library, worker: "p", nationalDirectory: national)
        for d in processor.pending() { _ = try await processor.process(d, using: conn) }
        let report = try #require(try await ReportData.load(practice: ods, ruleset: lastYear, achievementDate: Day(iso: "2025-03-31")!, in: conn))
        let qi = try #require(report.indicators.first { $0.id == "QI013" })
        #expect(qi.points == 20.5 && (qi.pounds ?? 0) > 0)
        #expect(report.indicators.first { $0.id == "QI014" }?.points == 0)   // not supplied: nothing
    }
}
