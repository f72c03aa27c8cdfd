import ArgumentParser
import CQRS
import Clusters
import Foundation
import Payments
import RulesEngine
import Storage

/// `qofd import-cqrs FILE`: aggregate GPES counts in the CQRS layout, stored as runs.
struct ImportCQRSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-cqrs",
        abstract: "Import per-indicator counts in the CQRS INDICATOR_VALUES layout and store them as runs.",
        discussion: "For sites that hold only aggregate GPES counts: the same achievement and payment figures follow.")

    @Argument(help: ArgumentHelp("An INDICATOR_VALUES CSV file.", valueName: "file"))
    var file: String

    @Option(name: .customLong("list-size"), help: ArgumentHelp("A practice's list size, ODS=N (repeatable); needed for pounds.", valueName: "ods=n"))
    var listSizes: [String] = []

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("national-dir"), help: ArgumentHelp("Newer national figures (<ruleset>.yaml) and income-protection points (<ruleset>-income-protection.csv).", valueName: "dir"))
    var nationalDirectory: String?

    func run() async throws {
        var sizes: [String: Int] = [:]
        for item in listSizes {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let n = Int(parts[1]) else { throw ValidationError("--list-size must be ODS=N, not \(item)") }
            sizes[String(parts[0])] = n
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let library = try ClusterLibrary.bundled()
        let rulesets = try RulesetLoader(library: library).loadAll()
        let imported = try CQRSFiles.read(text, rulesets: rulesets, listSizes: sizes)
        let stored = try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            var runs: [Int64] = []
            for item in imported {
                let ruleset = rulesets[item.ruleset]!
                // No figures file: stored without pounds; a broken one is an error naming its file and line.
                let national = try NationalFigures.loadIfPresent(year: ruleset.id, directory: nationalDirectory.map { URL(fileURLWithPath: $0) })
                let payment = national.map { PaymentCalculator.practice(item.result, ruleset: ruleset, national: $0) }
                let record = RunRecord(
                    extractID: nil, practice: .init(ods: item.result.ods, name: item.result.ods), rulesetID: ruleset.id,
                    rulesetSHA256: ruleset.sha256, clusterVersion: "cqrs-import", achievementDate: item.achievementDate,
                    result: item.result, engineVersion: "cqrs-import", payment: payment, ruleset: ruleset,
                    aspirationPercent: national?.aspirationPercent)
                let id = try await conn.withTransaction { c in
                    try RunStore.recordOrganisations(record.practice, on: record.achievementDate, in: c)
                    return try RunStore.store(record, in: c, source: "cqrs-import")
                }
                runs.append(id)
            }
            return runs
        }
        print("Imported \(imported.count) practice-year(s) from \(file) as runs \(stored.map(String.init).joined(separator: ", ")).")
    }
}
