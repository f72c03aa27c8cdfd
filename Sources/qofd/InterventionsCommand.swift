import ArgumentParser
import Foundation
import Storage

/// `qofd interventions`: a practice's recorded interventions, or one intervention's follow-up extract by extract
/// (both arms, the difference and its 95 % interval, and by group with `--by`), as stored by the pipeline.
/// Counts only: no patient is named.
struct InterventionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interventions",
        abstract: "A practice's interventions and, for one, the share reaching the outcome in each later extract against its comparison group.",
        discussion: "Interventions are recorded on the web view, from a worklist or a cohort's list (README, \"Beyond the dashboard\").")

    @Option(help: "The practice's ODS code.") var practice: String
    @Option(help: "One intervention's number: its follow-up extract by extract.") var id: Int64?
    @Option(help: "With --id: all (default), imd_quintile, ethnic_group, sex or age_band, for the latest extract.") var by: String = "all"
    @Flag(help: "Print JSON instead of a table.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard ["all", "imd_quintile", "ethnic_group", "sex", "age_band"].contains(by) else {
            throw ValidationError("--by must be all, imd_quintile, ethnic_group, sex or age_band")
        }
        let ods = practice.uppercased()
        let (list, results) = try await database.withConnection { conn in
            try await conn.withTransaction { c in
                let list = try InterventionStore.list(practice: ods, in: c)
                return (list, try id.map { try InterventionStore.results($0, in: c) } ?? [])
            }
        }
        guard let id else {
            if json {
                let rows = list.map { ["id": $0.id, "name": $0.name, "outcome": $0.cohort == nil ? "numerator of \($0.indicator)" : "left cohort \($0.indicator)",
                                       "frozenOn": $0.frozenOn.description, "actedOn": $0.cohortSize, "comparison": $0.comparisonSize] as [String: Any] }
                print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            } else {
                if list.isEmpty { print("no interventions recorded for \(ods)") }
                for i in list {
                    print("\(i.id)  \(i.name)  [\(i.indicator), frozen \(i.frozenOn), \(i.cohortSize) acted on, \(i.comparisonSize) comparison]")
                }
            }
            return
        }
        guard let intervention = list.first(where: { $0.id == id }) else {
            FileHandle.standardError.write(Data("no intervention \(id) at \(ods)\n".utf8))
            throw ExitCode(1)
        }
        let latest = results.last(where: { $0.dimension == "all" })?.run
        let chosen = by == "all" ? results.filter { $0.dimension == "all" } : results.filter { $0.dimension == by && $0.run == latest }
        if json {
            let rows = chosen.map { r -> [String: Any] in
                var row: [String: Any] = ["dataTo": r.dataTo.description, "group": r.group, "actedOn": r.cohortN, "actedOnReached": r.cohortReached,
                                          "comparison": r.comparisonN, "comparisonReached": r.comparisonReached]
                if let d = r.difference { row["difference"] = d.difference; row["low95"] = d.low; row["high95"] = d.high }
                return row
            }
            let object: [String: Any] = ["id": id, "name": intervention.name, "indicator": intervention.indicator, "by": by, "results": rows]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            return
        }
        print("\(intervention.name): \(intervention.indicator), frozen on \(intervention.frozenOn) (\(intervention.selection))")
        if chosen.isEmpty { print("no later extract yet") }
        for r in chosen {
            let label = by == "all" ? r.dataTo.description : r.group
            let d = r.difference.map { String(format: "%+.1f points (95%% CI %+.1f to %+.1f)", 100 * $0.difference, 100 * $0.low, 100 * $0.high) } ?? "no estimate"
            print("  \(label.padding(toLength: 30, withPad: " ", startingAt: 0))  acted on \(r.cohortReached)/\(r.cohortN)  comparison \(r.comparisonReached)/\(r.comparisonN)  \(d)")
        }
    }
}
