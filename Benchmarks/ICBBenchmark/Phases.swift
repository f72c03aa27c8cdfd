import Clinical
import Clusters
import Daemon
import Dispatch
import Extracts
import Foundation
import Logging
import Postgres
import ReferenceData
import RulesEngine
import Storage
import Stratification

/// One phase of qofd's work, run in a child process so that its time and peak memory are its own.
/// Prints one JSON line: seconds and, for evaluation, the counts the SQL references are checked against.
enum Phase {
    static let indicators: [(ruleset: String, id: String)] = [("qof-2025-26", "HYP008"), ("qof-2025-26", "DM020"),
                                                              ("qof-2025-26", "BP002"), ("flu-2025-26", "FLU_65PLUS")]

    final class Slots<T>: @unchecked Sendable {
        var items: [T?]
        let lock = NSLock()
        init(_ n: Int) { items = Array(repeating: nil, count: n) }
        func set(_ i: Int, _ v: T) { lock.withLock { items[i] = v } }
    }

    static func directories(_ data: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: data, includingPropertiesForKeys: nil)
            .filter { ExtractLoader.isComplete($0) }.sorted { $0.path < $1.path }
    }

    static func read(_ dirs: [URL]) -> [Population] {
        let out = Slots<Population>(dirs.count)
        let loader = ExtractLoader()
        DispatchQueue.concurrentPerform(iterations: dirs.count) { i in
            if let p = loader.load(dirs[i]).population { out.set(i, p) }
        }
        return out.items.compactMap { $0 }
    }

    static func compiled(_ library: ClusterLibrary) throws -> [CompiledRuleset] {
        let all = try RulesetLoader(library: library).loadAll()
        return try ["qof-2025-26", "flu-2025-26"].map { try CompiledRuleset(all[$0]!, achievementDate: Day(year: 2026, month: 3, day: 31)!, library: library) }
    }

    /// CPU time the whole machine spent busy so far (every core; qofd and PostgreSQL alike), from /proc/stat:
    /// steadier than wall time on a noisy machine, and what the workers estimate needs.
    static func machineBusySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let cpu = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return .nan }
        let ticks = cpu.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 5 else { return .nan }
        // user nice system idle iowait irq softirq steal: busy is user to softirq, less idle and iowait (steal is another guest).
        let busy = ticks.enumerated().filter { $0.offset != 3 && $0.offset != 4 && $0.offset < 7 }.map(\.element).reduce(0, +)
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func run(_ name: String, data: URL, conninfo: String?) async throws -> [String: Any] {
        let library = try ClusterLibrary.bundled()
        let rulesets = try compiled(library)
        let dirs = try directories(data)
        switch name {
        case "read":
            let start = ContinuousClock.now
            let populations = read(dirs)
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            return ["seconds": seconds, "patients": populations.reduce(0) { $0 + $1.patientCount },
                    "records": populations.reduce(0) { $0 + $1.events.count + $1.medications.count }]
        case "evaluate":
            let populations = read(dirs)
            let results = Slots<[PracticeResult]>(populations.count)
            let start = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: populations.count) { i in
                results.set(i, rulesets.map { Engine($0).evaluate(populations[i]) })
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            var counts: [String: [String: Int]] = [:]
            for practice in results.items.compactMap({ $0 }) {
                for (r, compiled) in zip(practice, rulesets) {
                    for i in r.indicators where indicators.contains(where: { $0.ruleset == compiled.ruleset.id && $0.id == i.id }) {
                        var c = counts[i.id] ?? ["register": 0, "denominator": 0, "numerator": 0]
                        c["register"]! += i.registerSize
                        c["denominator"]! += i.denominator
                        c["numerator"]! += i.numerator
                        counts[i.id] = c
                    }
                }
            }
            return ["seconds": seconds, "counts": counts]
        case "stratify":
            // The population health step alone: segments, frailty, QRISK3 and Core20PLUS5 for every patient.
            let populations = read(dirs)
            let stratifier = try PopulationStratifier(library: library, ethnicGroups: try EthnicGroups.bundled())
            let deprivation = try Deprivation.imd2025AcceptingLSOA2011()
            let sizes = Slots<Int>(populations.count)
            let start = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: populations.count) { i in
                sizes.set(i, stratifier.summarise(populations[i], on: populations[i].dataTo, decile: { deprivation.areas[$0]?.decile }).listSize)
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            return ["seconds": seconds, "patients": sizes.items.compactMap { $0 }.reduce(0, +)]
        case "store":
            // As the daemon stores: per practice, read and evaluate (not timed), then one transaction with
            // COPY (timed); two workers. The figure is the time the workers spent storing, per worker.
            guard let conninfo else { throw BenchmarkError("store needs a database") }
            let loader = ExtractLoader()
            let storing = try await withThrowingTaskGroup(of: Double.self) { group in
                for w in 0..<2 {
                    group.addTask {
                        let conn = try await PostgresConnection.connect(conninfo)
                        var spent = 0.0
                        for i in stride(from: w, to: dirs.count, by: 2) {
                            guard let p = loader.load(dirs[i]).population else { continue }
                            let runs = rulesets.map { c in
                                RunRecord(extractID: nil, practice: p.practice, rulesetID: c.ruleset.id, rulesetSHA256: c.ruleset.sha256,
                                          clusterVersion: c.clusterVersion, achievementDate: c.achievementDate,
                                          result: Engine(c).evaluate(p, patientOutcomes: true), engineVersion: "bench", worker: "bench")
                            }
                            let start = ContinuousClock.now
                            try await conn.withTransaction { c in
                                try RunStore.recordOrganisations(runs[0].practice, on: runs[0].achievementDate, in: c)
                                for r in runs { _ = try RunStore.store(r, in: c) }
                            }
                            spent += (ContinuousClock.now - start) / .seconds(1)
                        }
                        await conn.close()
                        return spent
                    }
                }
                return try await group.reduce(0, +)
            }
            return ["seconds": storing / 2]
        case "e2e":
            // `data` is a throwaway copy (hard links) used as the inbox: the pipeline archives what it processes.
            guard let conninfo else { throw BenchmarkError("e2e needs a database") }
            let base = data.deletingLastPathComponent()
            let all = try RulesetLoader(library: library).loadAll()
            let processor = ExtractProcessor(
                directories: .init(inbox: data, archive: base.appending(path: "archive"), quarantine: base.appending(path: "quarantine")),
                rulesets: [all["qof-2025-26"]!, all["flu-2025-26"]!], library: library, worker: "bench",
                reportsDirectory: ProcessInfo.processInfo.environment["ICB_NO_REPORTS"] == nil ? base.appending(path: "reports") : nil,
                populationSummary: ProcessInfo.processInfo.environment["ICB_NO_POPULATION"] == nil,
                logger: Logger(label: "bench"))
            let start = ContinuousClock.now
            let busy = machineBusySeconds()
            let summary = try await PipelineRunner.runOnce(processor, conninfo: conninfo, workers: DaemonConfiguration.defaultWorkers, logger: Logger(label: "bench"))
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            let cpu = machineBusySeconds() - busy
            guard summary.processed == dirs.count else { throw BenchmarkError("e2e processed \(summary.processed) of \(dirs.count)") }
            return ["seconds": seconds, "runs": summary.runs.count, "cpuSeconds": cpu]
        default:
            throw BenchmarkError("unknown phase \(name)")
        }
    }
}
