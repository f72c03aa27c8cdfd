import ArgumentParser
import Clinical
import Foundation
import Payments
import Storage

/// `qofd pcn`: a PCN's totals over its member practices, from the stored runs.
struct PCNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pcn", abstract: "PCN totals of registers, denominators, numerators and pounds, and each practice's standing.")

    @Option(help: "The PCN's ODS code (U and 5 digits).")
    var pcn: String

    @Option(help: "Ruleset id.")
    var ruleset: String = "qof-2025-26"

    @Option(help: "Achievement date YYYY-MM-DD.")
    var achievementDate: String = "2026-03-31"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard achievementDate.count == 10, let day = Day(iso: achievementDate) else { throw ValidationError("--achievement-date must be YYYY-MM-DD") }
        let (members, data) = try await database.withConnection { conn in
            let members = try await ResultsQuery.members(of: pcn.uppercased(), on: day, in: conn)
            return (members, try await StoredFigures.latest(ruleset: ruleset, achievementDate: day, practices: members, in: conn))
        }
        guard !members.isEmpty else { throw ValidationError("no practices were members of \(pcn) on \(achievementDate)") }
        let rolled = PCNRollup.rollUp(data.keys.sorted().compactMap { data[$0] }.flatMap { f in
            f.indicators.map {
                .init(practice: f.practice, indicator: $0.id, registerSize: $0.registerSize, denominator: $0.denominator,
                      numerator: $0.numerator, pounds: $0.pounds, computable: $0.completeness.computable)
            }
        })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rolled), as: UTF8.self))
            return
        }
        let missing = members.filter { data[$0] == nil }
        print("\(pcn) on \(achievementDate), \(ruleset): \(members.count) member practices, list \(data.values.reduce(0) { $0 + $1.listSize })")
        if !missing.isEmpty { print("no run yet for: \(missing.joined(separator: ", "))") }
        print("")
        print("  indicator   register  denominator  numerator  achievement   pounds      best practice")
        for r in rolled {
            let a = !r.computable ? "   n/c" : r.achievement.map { String(format: "%6.1f%%", $0) } ?? "     -"
            let best = r.practices.first { $0.rank == 1 }?.practice ?? "-"
            print(String(format: "  %-10@  %8d  %11d  %9d  %@     %10.2f  %@", r.indicator, r.registerSize, r.denominator, r.numerator, a, r.pounds, best))
        }
        if rolled.contains(where: { !$0.computable }) {
            print("\n  n/c: cannot be computed, code lists missing (see `qofd clusters check`).")
        }
    }
}
