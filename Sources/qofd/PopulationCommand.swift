import ArgumentParser
import Clinical
import Foundation
import Storage
import Stratification
import Web

/// `qofd population`: a practice's stored population health summary (segments, frailty, QRISK3 bands,
/// Core20PLUS5), or a PCN's (each member practice's latest and the PCN's sum, small numbers suppressed as on
/// the web view), as a table or JSON. Counts only: no patient is named.
struct PopulationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "population",
        abstract: "A practice's or PCN's population health summary from the latest extracts: segments, frailty, QRISK3 bands, Core20PLUS5.",
        discussion: "Population use only (planning and case finding). QRISK3 figures carry ClinRisk's disclaimer (README).")

    @Option(help: "The practice's ODS code.") var practice: String?
    @Option(help: "A PCN's code (U followed by five digits): each member practice and the PCN's sum, suppressed beyond the practice.") var pcn: String?
    @Option(help: "all (default), imd_quintile, ethnic_group, sex or age_band: the breakdown to print.") var by: String = "all"
    @Flag(help: "Print JSON instead of a table.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard ["all", "imd_quintile", "ethnic_group", "sex", "age_band"].contains(by) else {
            throw ValidationError("--by must be all, imd_quintile, ethnic_group, sex or age_band")
        }
        guard (practice == nil) != (pcn == nil) else { throw ValidationError("name either --practice or --pcn") }
        if let pcn { return try await network(pcn.uppercased()) }
        let ods = practice!.uppercased()
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

    /// The PCN's member practices (members on any day since the start of last QOF year) with their latest
    /// summaries and the sum, each count suppressed (1–7 hidden, others to the nearest 5) as beyond a practice.
    func network(_ code: String) async throws {
        let since = membershipWindowStart()
        let members = try await database.withConnection { conn in
            try await conn.withTransaction { c in
                try PracticeHistory.practices(inPCN: code, since: since, in: c).compactMap { try PopulationStore.latest(practice: $0.ods, in: c) }
            }
        }
        guard !members.isEmpty else {
            FileHandle.standardError.write(Data("no population summary stored for any practice of \(code)\n".utf8))
            throw ExitCode(1)
        }
        var total: [String: Int] = [:]
        for (_, counts) in members { for c in counts where c.dimension == by { total["\(c.measure)|\(c.category)|\(c.group)", default: 0] += c.value } }
        let list = members.reduce(0) { $0 + $1.0.listSize }
        func shown(_ n: Int) -> Int? { Suppression.shown(n) }
        if json {
            let object: [String: Any] = [
                "pcn": code, "by": by, "suppressed": true, "listSize": shown(list) as Any,
                "practices": members.map { run, counts in
                    ["practice": run.practice, "asOf": run.asOf.description, "listSize": shown(run.listSize) as Any,
                     "counts": counts.filter { $0.dimension == by }.map {
                         ["measure": $0.measure, "category": $0.category, "group": $0.group, "patients": shown($0.value) as Any]
                     }] as [String: Any]
                },
                "counts": total.keys.sorted().map { k -> [String: Any] in
                    let p = k.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                    return ["measure": p[0], "category": p[1], "group": p[2], "patients": shown(total[k]!) as Any]
                },
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            return
        }
        func cell(_ n: Int?) -> String { String(repeating: " ", count: max(0, 8 - (n.map(String.init) ?? "*").count)) + (n.map(String.init) ?? "*") }
        print("\(code): \(members.count) practices, \(shown(list).map(String.init) ?? "*") registered patients (counts 1–7 shown as *, others to the nearest 5;")
        print("population use only)")
        print("\n" + "".padding(toLength: 42, withPad: " ", startingAt: 0) + members.map { "  " + $0.0.practice }.joined() + "     PCN")
        for k in total.keys.sorted() {
            let p = k.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let label = (p[0] + " " + p[1] + (by == "all" ? "" : " / " + p[2])).padding(toLength: 42, withPad: " ", startingAt: 0)
            let cells = members.map { _, counts in cell(shown(counts.first { "\($0.measure)|\($0.category)|\($0.group)" == k && $0.dimension == by }?.value ?? 0)) }
            print(label + cells.joined() + cell(shown(total[k]!)) + "  ")
        }
    }
}
