import ArgumentParser
import Clinical
import Clusters
import Daemon
import Foundation
import Logging
import Postgres
import PostgresCluster
import ReferenceData
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

        let rulesets = try RulesetLoader(library: library).loadAll()
        let chosen = rulesets.keys.sorted().map { rulesets[$0]! }
        let summary = try await database.withDatabase { conninfo, conn in
            print("2. PostgreSQL \(await conn.serverVersion / 10000) ready; applying migrations …")
            try await Migrator().migrate(on: conn)
            print("3. Running the pipeline: claim, check, evaluate \(chosen.map(\.id).joined(separator: ", ")), store, archive …")
            let processor = ExtractProcessor(directories: dirs, rulesets: chosen, library: library, worker: "demo-\(getpid())")
            let s = try await PipelineRunner.runOnce(processor, conninfo: conninfo, workers: 2, logger: Logger(label: "qofd.postgres"))
            print("   processed \(s.processed), rejected \(s.rejected), duplicates \(s.duplicates); \(s.runs.count) runs stored")
            return try await report(conn, runs: s.runs, to: demo.appending(path: "reports"))
        }
        print(summary)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        print(String(format: "Done in %.1f s.", seconds))
        print("""

            Where to look:
              reports      \(demo.appending(path: "reports").path)
              archive      \(dirs.archive.path)
              database     qofd status\(database.stateDirectory.map { " --state-dir \($0)" } ?? "")   (tables: computation_run, indicator_result, rule_count, patient_outcome)
              a patient    qofd explain --extract \(dirs.archive.path)/\(written[0].practice.ods)/\(written[0].directory.lastPathComponent) --patient \(written[0].practice.ods)-28
            """)
    }

    /// Reads the stored results back and writes a per-practice CSV; returns a summary table.
    private func report(_ conn: PostgresConnection, runs: [Int64], to directory: URL) async throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rows = try await conn.query(
            """
            SELECT r.practice_ods, r.ruleset_id, r.achievement_date::text, r.list_size, i.indicator_id, i.register_size,
                   i.denominator, i.numerator, coalesce(i.achievement::text, ''), i.points::text, i.max_points::text
            FROM computation_run r JOIN indicator_result i ON i.run_id = r.id
            WHERE r.id = ANY(\(PostgresArrayLiteral(runs.map { String($0) }))::bigint[])
            ORDER BY r.practice_ods, r.ruleset_id, i.indicator_id
            """)
        var files: [String: String] = [:]
        var lines = ["", "   practice  list   indicator  register  denominator  numerator  achievement  points"]
        for row in rows {
            let ods = try row.decode(0, as: String.self)
            let key = "\(ods)-\(try row.decode(1, as: String.self))-\(try row.decode(2, as: String.self))"
            files[key, default: "indicator,register_size,denominator,numerator,achievement,points,max_points\n"] +=
                "\(try row.decode(4, as: String.self)),\(try row.decode(5, as: Int.self)),\(try row.decode(6, as: Int.self)),"
                + "\(try row.decode(7, as: Int.self)),\(try row.decode(8, as: String.self)),\(try row.decode(9, as: String.self)),"
                + "\(try row.decode(10, as: String.self))\n"
            let a = Double(try row.decode(8, as: String.self)).map { String(format: "%6.1f%%", $0) } ?? "     -"
            lines.append(String(
                format: "   %@  %5d  %-9@  %8d  %11d  %9d  %@     %5.2f / %@", ods, try row.decode(3, as: Int.self),
                try row.decode(4, as: String.self), try row.decode(5, as: Int.self), try row.decode(6, as: Int.self),
                try row.decode(7, as: Int.self), a, Double(try row.decode(9, as: String.self)) ?? 0, String(Int(Double(try row.decode(10, as: String.self)) ?? 0))))
        }
        for (key, text) in files { try writeAtomically(Data(text.utf8), to: directory.appending(path: "\(key).csv")) }
        return lines.joined(separator: "\n")
    }
}
