import Clinical
import Clusters
import Daemon
import Extracts
import Foundation
import Postgres
import ReferenceData
import RulesEngine
import Storage
import Synth
import Testing
import TestSupport

/// The pipeline from inbox to PostgreSQL, against a real database.
@Suite("Extract pipeline: inbox to stored runs")
struct ExtractProcessorTests {
    static let library: ClusterLibrary = try! ClusterLibrary.bundled()
    static let ruleset: Ruleset = try! RulesetLoader(library: library).loadAll()["qof-2025-26"]!
    static let compiled: CompiledRuleset = try! CompiledRuleset(ruleset, library: library)

    struct Site {
        let base: URL
        let directories: ExtractProcessor.Directories
        let written: [Synthesizer.Written]
    }

    /// Synthetic extracts written straight into a fresh inbox.
    static func site(practices: Int = 2, patients: Int = 1_200, seed: UInt64 = 3) throws -> Site {
        let base = TestFolders.make("daemon")
        let dirs = ExtractProcessor.Directories(
            inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"), quarantine: base.appending(path: "quarantine"))
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = practices
        o.patients = patients
        let written = try Synthesizer(library: library).write(o, to: dirs.inbox)
        return Site(base: base, directories: dirs, written: written)
    }

    func processor(_ site: Site, worker: String = "test-worker", lease: Int = 60) -> ExtractProcessor {
        ExtractProcessor(directories: site.directories, rulesets: [Self.ruleset], library: Self.library, worker: worker, leaseSeconds: lease)
    }

    @Test("an extract is stored whole (runs, results, rule counts, patient outcomes) and archived")
    func processesAndArchives() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try Self.site(practices: 1)
        let p = processor(site)
        let dir = try #require(p.pending().first)
        let outcome = try await p.process(dir, using: conn)
        guard case .processed(let extractID, let runs, _) = outcome else { Issue.record("expected processed, got \(outcome)"); return }
        #expect(runs.count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        #expect(FileManager.default.fileExists(atPath: site.directories.archive.appending(path: site.written[0].practice.ods).appending(path: dir.lastPathComponent).path))
        // The stored figures are the engine's figures.
        let population = try #require(ExtractLoader().load(site.directories.archive.appending(path: site.written[0].practice.ods).appending(path: dir.lastPathComponent)).population)
        let expected = Engine(Self.compiled).evaluate(population, patientOutcomes: true)
        let stored = try await conn.query(
            "SELECT indicator_id, denominator, numerator, register_size FROM indicator_result WHERE run_id = \(runs[0]) ORDER BY indicator_id")
        let got = try stored.map { "\(try $0.decode(0, as: String.self)) \(try $0.decode(1, as: Int.self)) \(try $0.decode(2, as: Int.self)) \(try $0.decode(3, as: Int.self))" }
        #expect(got == expected.indicators.sorted { $0.id < $1.id }.map { "\($0.id) \($0.denominator) \($0.numerator) \($0.registerSize)" })
        let status = try await conn.query("SELECT status, patients FROM extract WHERE id = \(extractID)")
        #expect(try status[0].decode(0, as: String.self) == "processed")
        #expect(try status[0].decode(1, as: Int.self) == population.patientCount)
        let outcomes = try await conn.query("SELECT count(*) FROM patient_outcome WHERE run_id = \(runs[0])")
        #expect(try outcomes[0].decode(0, as: Int.self) == expected.patients!.filter { $0.outcome != .notInRegister && !($0.outcome == .excluded && $0.field == nil) }.count)
        let fields = try await conn.query(
            "SELECT value FROM rule_count WHERE run_id = \(runs[0]) AND indicator_id = 'HYP008' AND field_name = 'PAT_AGEO79'")
        #expect(try fields[0].decode(0, as: Int.self) == expected.indicators.first { $0.id == "HYP008" }!.fields["PAT_AGEO79"])
        let membership = try await conn.query("SELECT pcn_ods FROM pcn_membership WHERE practice_ods = \(site.written[0].practice.ods)")
        #expect(try membership[0].decode(0, as: String.self) == site.written[0].practice.pcnODS)
    }

    @Test("the same extract delivered twice is not recomputed")
    func duplicateIsNotRecomputed() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try Self.site(practices: 1)
        let p = processor(site)
        let dir = try #require(p.pending().first)
        let copy = site.base.appending(path: "copy")
        try FileManager.default.copyItem(at: dir, to: copy)
        _ = try await p.process(dir, using: conn)
        try FileManager.default.moveItem(at: copy, to: dir)
        let second = try await p.process(dir, using: conn)
        guard case .duplicate = second else { Issue.record("expected duplicate, got \(second)"); return }
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 1)
        #expect(p.pending().isEmpty)
    }

    @Test("a rejected extract is quarantined with its report and recorded as rejected; nothing is stored")
    func rejectedIsQuarantined() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try Self.site(practices: 1)
        let p = processor(site)
        let dir = try #require(p.pending().first)
        // Corrupt a data file after the manifest was written: its checksum no longer matches.
        let events = dir.appending(path: "events.csv")
        try (try Data(contentsOf: events) + Data("P-1,2025-01-01,38341003,,,\n".utf8)).write(to: events)
        let outcome = try await p.process(dir, using: conn)
        guard case .rejected(let id?, let problems) = outcome else { Issue.record("expected rejected, got \(outcome)"); return }
        #expect(problems > 0)
        let quarantined = site.directories.quarantine.appending(path: dir.lastPathComponent)
        #expect(FileManager.default.fileExists(atPath: quarantined.appending(path: "errors.json").path))
        #expect(FileManager.default.fileExists(atPath: quarantined.appending(path: "errors.txt").path))
        let row = try await conn.query("SELECT status, last_error FROM extract WHERE id = \(id)")
        #expect(try row[0].decode(0, as: String.self) == "rejected")
        #expect(try row[0].decode(1, as: String.self).contains("SHA-256"))
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 0)
    }

    @Test("a worker whose lease expired loses the extract to another, which completes it once")
    func leaseTakeover() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try Self.site(practices: 1)
        let dir = try #require(processor(site).pending().first)
        let manifest = try Data(contentsOf: dir.appending(path: Manifest.fileName))
        let m = try JSONDecoder().decode(Manifest.self, from: manifest)
        let identity = ExtractQueue.Identity(
            sha256: sha256Hex(manifest), practice: PracticeInfo(ods: m.practice.ods, name: m.practice.name, pcnODS: m.pcn?.ods),
            sourceName: dir.lastPathComponent, system: m.system, encoding: m.encoding.rawValue, extractedAt: m.extractedAt,
            dataTo: Day(iso: m.dataTo)!)
        // Worker A claims and then "dies" (never renews).
        let claim = try await conn.withTransaction { c in try ExtractQueue.claim(identity, worker: "A", leaseSeconds: 300, in: c) }
        guard case .claimed(let id, false) = claim else { Issue.record("A should claim: \(claim)"); return }
        // While A's lease is live, B finds it busy.
        #expect(try await processor(site, worker: "B").process(dir, using: conn) == .busy)
        // Time passes: A's lease runs out (set in the database rather than waited for, so a loaded machine cannot flake).
        try await conn.execute("UPDATE extract SET lease_until = now() - interval '1 second' WHERE id = \(id)")
        let outcome = try await processor(site, worker: "B").process(dir, using: conn)
        guard case .processed(let extractID, _, _) = outcome else { Issue.record("B should take over: \(outcome)"); return }
        #expect(extractID == id)
        // A comes back and tries to finish: refused, nothing written twice.
        await #expect(throws: LeaseLost.self) {
            try await conn.withTransaction { c in try ExtractQueue.complete(id, worker: "A", patients: 1, events: 1, medications: 1, in: c) }
        }
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 1)
        #expect(try await conn.query("SELECT attempts FROM extract WHERE id = \(id)")[0].decode(0, as: Int.self) == 2)
    }

    @Test("a lease lost while the work runs: the worker stores nothing, steps aside (busy, not a failure), and the extract stays")
    func leaseLostWhileWorking() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let cluster = try await TestDatabase.cluster()
        let watcher = try await PostgresConnection.connect(
            cluster.conninfo(database: try await conn.query("SELECT current_database()")[0].decode(0, as: String.self)), logger: .init(label: "t"))
        let site = try Self.site(practices: 1, patients: 4_000, seed: 91)
        let dir = try #require(processor(site).pending().first)
        // Worker A starts; as soon as its claim shows, another worker takes the extract over.
        async let outcome = processor(site, worker: "A", lease: 3).process(dir, using: conn)
        var stolen = false
        for _ in 0..<2_000 where !stolen {
            stolen = try await watcher.query(
                "UPDATE extract SET lease_owner = 'Z', lease_until = now() + interval '5 minutes' WHERE lease_owner = 'A' RETURNING id").count == 1
            if !stolen { try await Task.sleep(for: .milliseconds(2)) }
        }
        let result = try await outcome
        #expect(stolen)
        #expect(result == .busy, "\(result)")
        #expect(try await watcher.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 0)
        #expect(try await watcher.query("SELECT lease_owner, status FROM extract")[0].decode(0, as: String.self) == "Z")
        #expect(FileManager.default.fileExists(atPath: dir.path), "the extract stays in the inbox for its new owner")
        await watcher.close()
    }

    @Test("three workers sharing one inbox process every extract exactly once")
    func workersShareTheInbox() async throws {
        let conninfo = try await TestDatabase.fresh(migrated: true)
        let site = try Self.site(practices: 6, patients: 1_800)
        let results = try await withThrowingTaskGroup(of: [ExtractProcessor.Outcome].self) { group in
            for w in 0..<3 {
                group.addTask {
                    let conn = try await PostgresConnection.connect(conninfo)
                    let p = ExtractProcessor(directories: site.directories, rulesets: [Self.ruleset], library: Self.library, worker: "w\(w)")
                    var outcomes: [ExtractProcessor.Outcome] = []
                    for dir in p.pending() {
                        do { outcomes.append(try await p.process(dir, using: conn)) } catch {
                            // Another worker archived it between listing and reading: fine.
                            if FileManager.default.fileExists(atPath: dir.path) { throw error }
                        }
                    }
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let processed = results.filter { if case .processed = $0 { return true } else { return false } }.count
        let conn = try await PostgresConnection.connect(conninfo)
        #expect(try await conn.query("SELECT count(*) FROM extract WHERE status = 'processed'")[0].decode(0, as: Int.self) == 6)
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 6)
        // The others found it busy, already done, or already archived (gone between listing and reading).
        let others = results.filter { o in
            if case .processed = o { return false }
            if case .duplicate = o { return true }
            return o == .busy || o == .incomplete
        }.count
        #expect(processed + others == results.count, "\(results)")
        #expect(processed == 6)
    }
}
