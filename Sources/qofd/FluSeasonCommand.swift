import ArgumentParser
import Clinical
import Clusters
import Foundation
import Payments
import RulesEngine
import Storage
import Web

/// `qofd flu-season`: a PCN's flu season week by week.
struct FluSeasonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flu-season",
        abstract: "Cumulative flu uptake per cohort, week by week, for a PCN's practices: beside last season and the target, with the projection.")

    @Option(help: "The PCN's ODS code.") var pcn: String
    @Option(help: "Season ruleset, e.g. flu-2025-26.") var season: String = "flu-2025-26"
    @Option(help: "Show the season up to this date (default: its end).") var asOf: String?
    @Option(help: "Only this cohort (repeatable).") var cohort: [String] = []
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let library = try ClusterLibrary.bundled()
        let all = try RulesetLoader(library: library).loadAll()
        guard let rs = all[season] else { throw ValidationError("unknown season \(season)") }
        let end = try asOf.map { s -> Day in
            guard s.count == 10, let d = Day(iso: s) else { throw ValidationError("--as-of must be YYYY-MM-DD") }
            return d
        } ?? rs.payPeriodEnd
        let previous = rs.previous.flatMap { all[$0] }
        let (pcn, cohorts) = (self.pcn, Set(cohort))
        let view = try await database.withConnection { conn in
            guard let figures = try await ResultsQuery.seasonFigures(pcn: pcn, season: rs, previous: previous, end: end, in: conn) else {
                throw ValidationError("no practices were members of \(pcn)")
            }
            return SeasonView.from(figures, season: rs, cohorts: cohorts)
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(view), as: UTF8.self))
            return
        }
        func pct(_ x: Double?) -> String { x.map { String(format: "%5.1f%%", $0) } ?? "    -" }
        for c in view.cohorts {
            print("\(c.id)  target \(pct(c.target))  projected end of season \(pct(c.projectedUptake))")
            print("  week ending  vaccinated / eligible   uptake   last season")
            for w in c.weeks {
                print(String(format: "  %@   %8d / %-8d    %@   %@", w.week, w.numerator, w.denominator, pct(w.uptake), pct(w.lastSeasonUptake)))
            }
            for p in c.practices {
                print("  \(p.practice): \(p.numerator) of \(p.denominator) (\(pct(p.uptake)))\(p.neededForTarget > 0 ? ", \(p.neededForTarget) more to reach the target" : "")")
            }
            print("")
        }
    }
}
