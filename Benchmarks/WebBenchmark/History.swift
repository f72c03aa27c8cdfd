import Clinical
import Clusters
import Daemon
import Extracts
import Foundation
import Payments
import Postgres
import ReferenceData
import RulesEngine
import Storage
import Synchronization
import Synth
import Web

/// An ICB's year of history in a database: synthetic practices, each sending a weekly extract for `weeks`
/// weeks, every extract evaluated by every shipped ruleset and stored as the daemon stores it (claimed,
/// runs with patient outcomes, points and pounds, completed in one transaction). The latest extract of each
/// practice is archived, as the web view's worklists and explanations read it.
struct History {
    let directory: URL
    let practices: Int
    let patientsPerPractice: Int
    let weeks: Int
    /// The last weekly extract's data-to date (mid flu season, late in the QOF year: long worklists).
    let lastWeek = Day(year: 2026, month: 1, day: 25)!
    static let password = "benchmark horse battery"

    var extracts: URL { directory.appending(path: "extracts") }
    var archive: URL { directory.appending(path: "archive") }
    var done: URL { directory.appending(path: "complete") }

    /// Generates the history unless a complete one is already there. Returns seconds spent (0 when reused).
    func generate(conninfo: String, log: @escaping @Sendable (String) -> Void) async throws -> Double {
        guard !FileManager.default.fileExists(atPath: done.path) else { return 0 }
        let started = ContinuousClock.now
        let library = try ClusterLibrary.bundled()
        let rulesets = try RulesetLoader(library: library).loadAll().values.sorted { $0.id < $1.id }
        let national = try ExtractProcessor.nationalFigures(for: rulesets, directory: nil)
        var o = Synthesizer.Options()
        o.seed = 2027
        o.practices = practices
        o.pcns = max(1, practices / 8)
        o.patients = practices * patientsPerPractice
        o.dataTo = lastWeek
        try? FileManager.default.removeItem(at: extracts)
        log("synthesising \(o.patients) patients in \(practices) practices …")
        let written = try Synthesizer(library: library, deprivation: try Deprivation.imd2025()).write(o, to: extracts)
        let conn = try await PostgresConnection.connect(conninfo)
        try await Migrator().migrate(on: conn)
        try await conn.withTransaction { c in
            try WebAccounts.save(.init(username: "bench", role: .commissioner, scope: nil, patientAccess: true,
                                       passwordHash: WebApp.hashPassword(Self.password, cost: 4)), in: c)
        }
        log("storing \(practices) practices × \(weeks) weeks × \(rulesets.count) rulesets …")
        let next = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<2 {
                group.addTask {
                    let conn = try await PostgresConnection.connect(conninfo)
                    var compiled: [String: CompiledRuleset] = [:]
                    while let i = next.take(below: written.count) {
                        let population = ExtractLoader().load(written[i].directory).population!
                        for w in 0..<weeks {
                            let day = lastWeek.adding(days: -7 * (weeks - 1 - w))
                            let week = population.asOf(day)
                            var runs: [RunRecord] = []
                            for r in rulesets {
                                let achievement = min(max(day, r.payPeriodStart), r.payPeriodEnd)
                                let key = "\(r.id)/\(achievement)"
                                let c = try compiled[key] ?? CompiledRuleset(r, achievementDate: achievement, library: library)
                                compiled[key] = c
                                let result = Engine(c).evaluate(week, patientOutcomes: true)
                                runs.append(RunRecord(
                                    extractID: nil, practice: week.practice, rulesetID: r.id, rulesetSHA256: r.sha256,
                                    clusterVersion: c.clusterVersion, achievementDate: achievement, result: result,
                                    engineVersion: "web-benchmark", worker: "bench-\(worker)",
                                    payment: national[r.id].map { PaymentCalculator.practice(result, ruleset: r, national: $0) },
                                    ruleset: r, aspirationPercent: national[r.id]?.aspirationPercent))
                            }
                            let name = "\(week.practice.ods)-\(day)"
                            let identity = ExtractQueue.Identity(
                                sha256: (0..<4).map { String(format: "%016llx", FNV1a.hash("web-benchmark \(name) \($0)")) }.joined(), practice: week.practice, sourceName: name, system: "synthetic",
                                encoding: "csv", extractedAt: "\(day)T06:00:00Z", dataTo: day)
                            let stored = runs
                            let archived = try await conn.withTransaction { c -> String in
                                guard case .claimed(let id, _) = try ExtractQueue.claim(identity, worker: "bench-\(worker)", leaseSeconds: 600, in: c) else {
                                    throw HistoryError("extract \(name) already stored: remove \(directory.path) and start again")
                                }
                                for var run in stored {
                                    run.extractID = id
                                    _ = try RunStore.store(run, in: c)
                                }
                                return try ExtractQueue.complete(id, worker: "bench-\(worker)", patients: week.patientCount,
                                                                 events: week.events.count, medications: week.medications.count, in: c)
                            }
                            if w == weeks - 1 {
                                _ = try CSVExtractWriter.write(week, to: archive.appending(path: week.practice.ods).appending(path: archived))
                            }
                        }
                        try? FileManager.default.removeItem(at: written[i].directory)
                        if (i + 1) % 10 == 0 { log("  \(i + 1) of \(written.count) practices") }
                    }
                    await conn.close()
                }
            }
            try await group.waitForAll()
        }
        try await DatabaseSize.analyse(in: conn)
        await conn.close()
        try Data().write(to: done)
        return (ContinuousClock.now - started) / .seconds(1)
    }
}

/// Hands out practice numbers to the workers.
final class Counter: Sendable {
    private let next = Mutex(0)
    func take(below n: Int) -> Int? {
        next.withLock { v in
            guard v < n else { return nil }
            v += 1
            return v - 1
        }
    }
}

struct HistoryError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
