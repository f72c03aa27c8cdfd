import ArgumentParser
import Clinical
import Clusters
import Daemon
import Foundation
import Payments
import Logging
import Postgres
import PostgresCluster
import ReferenceData
import Reports
import RulesEngine
import Storage
import Synth

/// `qofd demo`: the main job end to end on generated data, on the embedded database.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate a synthetic PCN, run the daemon's pipeline once into PostgreSQL, and show the results.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Practices in the synthetic PCN.")
    var practices: Int = 4

    @Option(help: "Patients across those practices.")
    var patients: Int = 40_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 2026

    @Flag(help: "Also send each practice's extracts through the year (every four weeks from September), then serve the web view until Ctrl-C.")
    var serve = false

    @Option(help: "Port for --serve (loopback only).")
    var port: Int = 8470

    func run() async throws {
        let started = ContinuousClock.now
        let state = database.stateDirectory.map { URL(fileURLWithPath: $0) } ?? DatabaseLocation.defaultStateDirectory()
        let demo = state.appending(path: "demo")
        try? FileManager.default.removeItem(at: demo)
        let dirs = ExtractProcessor.Directories(
            inbox: demo.appending(path: "inbox"), archive: demo.appending(path: "archive"), quarantine: demo.appending(path: "quarantine"))

        print("1. Generating \(patients) patients in \(practices) practices (one PCN) …")
        let library = try ClusterLibrary.bundled()
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = practices
        o.pcns = 1
        o.patients = patients
        let written = try Synthesizer(library: library, deprivation: try Deprivation.imd2025()).write(o, to: dirs.inbox)
        print("   \(written.count) extracts in \(dirs.inbox.path)")
        var intervention: DemoIntervention?
        if serve {
            let qof = try RulesetLoader(library: library).loadAll()["qof-2025-26"]
            intervention = try qof.flatMap { try DemoIntervention.generate(written[0], library: library, ruleset: $0) }
            let extra = try Self.writeHistory(written, to: dirs.inbox)
            print("   and \(extra) earlier extracts (every four weeks from September) for trends and the flu season")
        }

        // The population health models, made once: the pipeline and the web view share them.
        let population = try PopulationStep(library: library)
        let rulesets = try RulesetLoader(library: library).loadAll()
        let chosen = rulesets.keys.sorted().map { rulesets[$0]! }
        let table = try await database.withDatabase { conninfo, conn in
            print("2. PostgreSQL \(await conn.serverVersion / 10000) ready; applying migrations …")
            try await Migrator().migrate(on: conn)
            print("3. Running the pipeline: claim, check, evaluate \(chosen.map(\.id).joined(separator: ", ")), store, archive …")
            let processor = ExtractProcessor(directories: dirs, rulesets: chosen, library: library, worker: "demo-\(getpid())",
                                            reportsDirectory: demo.appending(path: "reports"), population: population)
            let s = try await PipelineRunner.runOnce(processor, conninfo: conninfo, workers: DaemonConfiguration.defaultWorkers, logger: Logger(label: "qofd.postgres"))
            print("   processed \(s.processed), rejected \(s.rejected), duplicates \(s.duplicates); \(s.runs.count) runs stored")
            if let intervention, let id = try await intervention.record(ruleset: "qof-2025-26", in: conn) {
                print("   an intervention that works (generated): /practice/\(intervention.practice)/intervention/\(id)")
            }
            return try await self.summary(conn, practices: written.map(\.practice.ods), rulesets: try processor.applicableRulesets(for: o.dataTo),
                                     reports: demo.appending(path: "reports"))
        }
        print(table)
        if serve {
            try await database.withDatabase { conninfo, conn in
                try await Self.serveWebView(conninfo: conninfo, conn: conn, practices: written.map(\.practice), archive: dirs.archive,
                                            rulesets: chosen, library: library, population: population.stratifier, port: port)
            }
            return
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        print(String(format: "Done in %.1f s.", seconds))
        print("""

            Where to look:
              reports      \(demo.appending(path: "reports").path)   (HTML, CSV, JSON and FHIR per practice)
              archive      \(dirs.archive.path)
              database     qofd status\(database.stateDirectory.map { " --state-dir \($0)" } ?? "")   (tables: computation_run, indicator_result, rule_count, patient_outcome)
              web view     qofd demo --serve   (a year of extracts, demo accounts, http://127.0.0.1:8470/)
              a patient    qofd explain --extract \(dirs.archive.path)/\(written[0].practice.ods)/\(written[0].directory.lastPathComponent) --patient \(written[0].practice.ods)-28
            """)
    }

    /// Reads the latest stored results of the demo practices back, writes their reports, and returns a
    /// summary table (so a second `qofd demo`, whose extracts are duplicates, still shows them).
    private func summary(_ conn: PostgresConnection, practices: [String], rulesets: [CompiledRuleset], reports: URL) async throws -> String {
        var lines = ["", "   practice  indicator  register  denominator  numerator  achievement  points       pounds"]
        for compiled in rulesets {
            for ods in practices {
                guard let data = try await conn.withTransaction({ c in
                    try ReportData.load(practice: ods, ruleset: compiled.ruleset, achievementDate: compiled.achievementDate, in: c)
                }) else { continue }
                try ReportWriter.write(data, formats: ReportFormat.allCases, to: reports)
                guard compiled.ruleset.kind == .qof else { continue }
                for i in data.indicators.sorted(by: { $0.id < $1.id }) where ["HYP008", "DM020", "BP002", "SMOK002", "CHD015", "VI004"].contains(i.id) {
                    let a = !i.completeness.computable ? "  n/c " : i.achievement.map { String(format: "%6.1f%%", $0) } ?? "     -"
                    lines.append(String(format: "   %@   %-9@  %8d  %11d  %9d  %@     %5.2f / %2d  %10@", ods, i.id, i.registerSize, i.denominator,
                                        i.numerator, a, i.points, Int(i.maxPoints), i.pounds.map { String(format: "£%.0f", $0) } ?? "-"))
                }
            }
        }
        for compiled in rulesets where compiled.ruleset.family == "flu" {
            let figures = try await StoredFigures.latest(ruleset: compiled.ruleset.id, achievementDate: compiled.achievementDate,
                                                         practices: practices, in: conn)
            let sizes = figures
            let over65 = figures.values.flatMap(\.indicators).filter { $0.id == "FLU_65PLUS" }
            let den = over65.reduce(0) { $0 + $1.denominator }
            let num = over65.reduce(0) { $0 + $1.numerator }
            lines.append("")
            lines.append("   \(compiled.ruleset.title), PCN of \(sizes.count) practices: aged 65+ \(num) of \(den) vaccinated"
                         + (den > 0 ? String(format: " (%.1f%%)", 100 * Double(num) / Double(den)) : ""))
        }
        // The Network Contract DES: the PCN's own stored run (its members summed).
        for compiled in rulesets where compiled.ruleset.kind == .des {
            let pcns = try await conn.withTransaction { c in try PracticeHistory.pcns(in: c) }
            for pcn in pcns {
                guard let f = try await conn.withTransaction({ c in
                    try StoredFigures.latestRunID(practice: pcn.ods, ruleset: compiled.ruleset.id, on: compiled.achievementDate, in: c)
                        .flatMap { try StoredFigures.load(run: $0, in: c) }
                }) else { continue }
                let parts = f.indicators.map { i in
                    "\(i.id) " + (i.completeness.computable ? i.achievement.map { String(format: "%.1f%%", $0) } ?? "-" : "n/c")
                }
                lines.append("")
                lines.append("   \(compiled.ruleset.title), \(pcn.name) (\(pcn.ods)): \(parts.joined(separator: ", ")); "
                             + String(format: "%.2f of %.0f points", f.pointsAchieved, f.pointsAvailable)
                             + (f.pounds.map { String(format: ", £%.2f (indicative: national figures unverified)", $0) } ?? ""))
            }
        }
        lines.append("")
        lines.append("   n/c: cannot be computed with the shipped code lists (see `qofd clusters check`).")
        return lines.joined(separator: "\n")
    }
}
