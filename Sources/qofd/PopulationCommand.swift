import ArgumentParser
import Foundation
import Storage
import Stratification

/// `qofd population`: a practice's stored population health summary (segments, frailty, QRISK3 bands,
/// Core20PLUS5), as a table or JSON. Counts only: no patient is named.
struct PopulationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "A practice's population health summary from its latest extract: segments, frailty, QRISK3 bands, Core20PLUS5.",
        discussion: "Population use only (planning and case finding). QRISK3 figures carry ClinRisk's disclaimer (README).")

    @Option(help: "The practice's ODS code.") var practice: String
    @Option(help: "all (default), imd_quintile, ethnic_group, sex or age_band: the breakdown to print.") var by: String = "all"
    @Flag(help: "Print JSON instead of a table.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard ["all", "imd_quintile", "ethnic_group", "sex", "age_band"].contains(by) else {
            throw ValidationError("--by must be all, imd_quintile, ethnic_group, sex or age_band")
        }
        let ods = practice.uppercased()
        guard let (run, counts) = try await database.withConnection({ conn in
            try await conn.withTransaction { c in try PopulationStore.latest(practice: ods, in: c) }
        }) else {
            FileHandle.standardError.write(Data("no population summary stored for \(ods) (one is made with each extract the daemon processes)\n".utf8))
            throw ExitCode(1)
        }
        let chosen = counts.filter { $0.dimension == by }
        if json {
            let object: [String: Any] = [
                "practice": run.practice, "asOf": run.asOf.description, "listSize": run.listSize, "models": run.modelsSHA256, "by": by,
                "counts": chosen.map { ["measure": $0.measure, "category": $0.category, "group": $0.group, "patients": $0.value] },
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            return
        }
        print("\(run.practice) on \(run.asOf): \(run.listSize) registered patients (population use only)")
        var measure = ""
        for c in chosen {
            if c.measure != measure {
                measure = c.measure
                print("\n\(measure)")
            }
            let share = by == "all" && run.listSize > 0 ? String(format: "  %5.1f%%", 100 * Double(c.value) / Double(run.listSize)) : ""
            print("  \(c.category.padding(toLength: 32, withPad: " ", startingAt: 0)) \(by == "all" ? "" : c.group.padding(toLength: 28, withPad: " ", startingAt: 0) + " ")\(String(format: "%7d", c.value))\(share)")
        }
    }
}
