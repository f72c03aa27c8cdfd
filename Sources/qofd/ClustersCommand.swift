import ArgumentParser
import Clusters
import Foundation
import PostgresCluster
import RulesEngine

/// `qofd clusters …`: the code lists the rules use.
struct ClustersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters", abstract: "Import and check code lists (clusters).", subcommands: [Import.self, Check.self])

    /// `qofd clusters import DIR`: the official PCD refset release (RF2 snapshot).
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the Primary Care Domain reference set release (RF2 der2_Refset_Simple…Snapshot files).")

        @Argument(help: ArgumentHelp("The unpacked release directory.", valueName: "dir"))
        var release: String

        @Option(help: ArgumentHelp("Where to write the cluster CSVs (default: <state dir>/clusters; pass it to --clusters-dir).", valueName: "dir"))
        var output: String?

        func run() throws {
            let out = output.map { URL(fileURLWithPath: $0) } ?? DatabaseLocation.defaultStateDirectory().appending(path: "clusters")
            // Refset ids declared by the shipped rulesets count too.
            var extra: [String: String] = [:]
            if let rulesets = try? RulesetLoader(library: try ClusterLibrary.bundled()).loadAll() {
                for rs in rulesets.values { for (name, ref) in rs.clusters { if let r = ref.refset { extra[r] = name } } }
            }
            let summary = try RefsetImport.run(release: URL(fileURLWithPath: release), output: out,
                                               names: try RefsetImport.clusterNames(extra: extra))
            for (name, n) in summary.clusters.sorted(by: { $0.key < $1.key }) { print("  \(name): \(n) concepts") }
            print("Imported \(summary.clusters.count) clusters (release \(summary.latestEffectiveTime)) into \(out.path); "
                  + "\(summary.unknownRefsets) refsets not used by qofd were skipped.")
            print("Use them with --clusters-dir \(out.path).")
        }
    }

    /// `qofd clusters check`: which clusters each ruleset uses, and which are missing.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the clusters each ruleset uses and the ones missing from the library.")

        @OptionGroup var rules: RuleOptions

        @Flag(help: "Check every ruleset, not only --ruleset.")
        var all = false

        func run() throws {
            let library = try rules.library()
            let rulesets = try RulesetLoader(library: library).loadAll(directories: rules.rulesDirectories.map { URL(fileURLWithPath: $0) })
            var missingTotal = 0
            for id in rulesets.keys.sorted() where all || id == rules.ruleset {
                let compiled = try CompiledRuleset(rulesets[id]!, library: library)
                print("\(id) (\(compiled.ruleset.kind.rawValue), family \(compiled.ruleset.family)): \(compiled.clusterVersions.count) clusters")
                for change in compiled.ruleset.changes { print("  \(change)") }
                for (name, version) in compiled.clusterVersions.sorted(by: { $0.key < $1.key }) {
                    let ref = compiled.ruleset.clusters[name]
                    let status = version == "missing" ? "MISSING" : version.hasPrefix("stand-in") ? "stand-in" : "ok"
                    let count = library[name]?.concepts.count ?? ref?.standIn.flatMap { library[$0]?.concepts.count } ?? 0
                    var line = "  \(status.padding(toLength: 8, withPad: " ", startingAt: 0)) \(name) (\(count) concepts)"
                    if let refset = ref?.refset { line += " refset \(refset)" }
                    if let note = ref?.note, status != "ok" { line += " — \(note)" }
                    print(line)
                    if version == "missing" { missingTotal += 1 }
                }
                // Per indicator: what its figure rests on.
                print("  indicators:")
                for ind in compiled.ruleset.indicators {
                    let c = compiled.completeness[ind.id] ?? .complete
                    let status = !c.computable ? "CANNOT BE COMPUTED" : c.status == .missing ? "incomplete" : c.status.rawValue
                    var line = "    \(ind.id.padding(toLength: 18, withPad: " ", startingAt: 0)) \(status)"
                    if !c.missing.isEmpty { line += "; missing \(c.missing.joined(separator: ", "))" }
                    if !c.standIns.isEmpty { line += "; stand-ins \(c.standIns.joined(separator: ", "))" }
                    if c.status == .missing, c.computable, let d = c.direction {
                        let words = switch d {
                        case .understated: " (the true figure can only be higher)"
                        case .overstated: " (the true figure can only be lower)"
                        case .countsOnly: " (named counts only; achievement unaffected)"
                        case .either: " (the figure may be higher or lower)"
                        }
                        line += words
                    }
                    print(line)
                }
            }
            if missingTotal > 0 {
                print("\(missingTotal) cluster(s) missing: import the official PCD refset release with `qofd clusters import`.")
            }
        }
    }
}
