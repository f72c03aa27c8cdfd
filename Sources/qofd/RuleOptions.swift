import ArgumentParser
import Clinical
import Clusters
import Foundation
import Payments
import RulesEngine

/// Which rules and code lists to use; shared by compute and explain.
struct RuleOptions: ParsableArguments {
    @Option(help: "Ruleset id, e.g. qof-2025-26.")
    var ruleset: String = "qof-2025-26"

    @Option(help: "Achievement date YYYY-MM-DD (default: the ruleset's payment period end).")
    var achievementDate: String?

    @Option(name: .customLong("rules-dir"), help: ArgumentHelp("Extra rule files (*.yaml); a ruleset here replaces a shipped one with the same id.", valueName: "dir"))
    var rulesDirectories: [String] = []

    @Option(name: .customLong("clusters-dir"), help: ArgumentHelp("Site code lists (*.csv, e.g. from `qofd clusters import`), used before the shipped ones.", valueName: "dir"))
    var clusterDirectories: [String] = []

    @Option(name: .customLong("national-dir"), help: ArgumentHelp("Newer national figures (<ruleset>.yaml) and income-protection points (<ruleset>-income-protection.csv).", valueName: "dir"))
    var nationalDirectory: String?

    func nationalFigures(_ ruleset: String) throws -> NationalFigures {
        try NationalFigures.load(year: ruleset, directory: nationalDirectory.map { URL(fileURLWithPath: $0) })
    }

    func library() throws -> ClusterLibrary {
        var library = try ClusterLibrary.bundled()
        for dir in clusterDirectories {
            for list in try ClusterLibrary.load(directory: URL(fileURLWithPath: dir)).lists.values { library.add(list) }
        }
        return library
    }

    func compiled(library: ClusterLibrary) throws -> CompiledRuleset {
        let all = try RulesetLoader(library: library).loadAll(directories: rulesDirectories.map { URL(fileURLWithPath: $0) })
        guard let rs = all[ruleset] else {
            throw ValidationError("unknown ruleset \(ruleset); available: \(all.keys.sorted().joined(separator: ", "))")
        }
        var day: Day?
        if let achievementDate {
            guard achievementDate.count == 10, let d = Day(iso: achievementDate) else {
                throw ValidationError("--achievement-date must be a date YYYY-MM-DD")
            }
            day = d
        }
        return try CompiledRuleset(rs, achievementDate: day, library: library)
    }
}
