import Clinical
import Clusters
import Daemon
import Extracts
import Foundation
import Payments
import Postgres
import RulesEngine
import Storage
import Synth
import Testing
import TestSupport

/// A synthetic PCN sending an extract every four weeks from September to March.
@Suite("A flu season, week by week")
struct FluSeasonTests {
    static let library = ReportTests.library
    static let flu: Ruleset = try! RulesetLoader(library: library).loadAll()["flu-2025-26"]!

    @Test("PCN uptake rises through the season and equals the sum of its practices every week")
    func season() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("season")
        var o = Synthesizer.Options()
        o.seed = 61
        o.practices = 3
        o.patients = 2_400
        let finals = try Synthesizer(library: Self.library).write(o, to: base.appending(path: "final"))
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        let start = Day(year: 2025, month: 9, day: 1)!
        let snapshots = stride(from: 6, through: 210, by: 28).map { start.adding(days: $0) }
        for w in finals {
            let population = try #require(ExtractLoader().load(w.directory).population)
            for day in snapshots {
                _ = try CSVExtractWriter.write(population.asOf(day), to: dirs.inbox.appending(path: "\(w.practice.ods)-\(day)"))
            }
        }
        let p = ExtractProcessor(directories: dirs, rulesets: [Self.flu], library: Self.library, worker: "s", storePatientOutcomes: false)
        for d in p.pending() {
            let outcome = try await p.process(d, using: conn)
            guard case .processed = outcome else { Issue.record("\(d.lastPathComponent): \(outcome)"); return }
        }
        let pcn = try #require(finals[0].practice.pcnODS)
        let members = try await ResultsQuery.members(of: pcn, on: Self.flu.payPeriodEnd, in: conn)
        #expect(members.count == 3)
        let weekly = try await ResultsQuery.weekly(ruleset: Self.flu.id, from: start, to: Self.flu.payPeriodEnd, practices: members, in: conn)
        let rows = weekly.map { SeasonView.Row(week: $0.week, practice: $0.practice, cohort: $0.indicator, denominator: $0.denominator, numerator: $0.numerator) }
        let view = SeasonView.build(season: Self.flu.id, seasonEnd: Self.flu.payPeriodEnd, rows: rows, lastSeason: [],
                                    targets: ["FLU_65PLUS": 75])
        let over65 = try #require(view.cohorts.first { $0.id == "FLU_65PLUS" })
        #expect(over65.weeks.count >= 25)
        let uptakes = over65.weeks.compactMap(\.uptake)
        #expect(uptakes.first! < 30 && uptakes.last! > 60, "\(uptakes)")
        // Cumulative: never falls by more than list churn allows, and rises overall.
        for (a, b) in zip(over65.weeks, over65.weeks.dropFirst()) { #expect(b.numerator >= a.numerator - 5) }
        // The PCN total is the sum of its practices, every week.
        for w in over65.weeks {
            let practices = weekly.filter { $0.indicator == "FLU_65PLUS" && $0.week.description == w.week }
            #expect(w.numerator == practices.reduce(0) { $0 + $1.numerator })
            #expect(w.denominator == practices.reduce(0) { $0 + $1.denominator })
        }
        #expect(over65.projectedUptake != nil)
        #expect(over65.practices.count == 3)
    }
}
