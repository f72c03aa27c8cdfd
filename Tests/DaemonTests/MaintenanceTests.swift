import Clinical
import Clusters
import Daemon
import Foundation
import Reports
import Postgres
import RulesEngine
import Storage
import Testing
import TestSupport

@Suite("Maintenance: recomputation, retention and report repair")
struct MaintenanceTests {
    @Test("a changed ruleset recomputes every practice's latest extract once; an unchanged one does nothing")
    func recomputeOnRuleChange() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 2, patients: 1_000, seed: 21)
        let library = ExtractProcessorTests.library
        let original = ExtractProcessorTests.ruleset
        let p = ExtractProcessor(directories: site.directories, rulesets: [original], library: library, worker: "m")
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        #expect(try await Maintenance(processor: p, logger: .init(label: "t")).recomputeLatest(using: conn) == 0)

        // The same rules with a clarified comment: a new ruleset version.
        let file = RulesetLoader.bundledFiles().first { $0.lastPathComponent == "qof-2025-26.yaml" }!
        let text = try String(contentsOf: file, encoding: .utf8) + "\n# clarified\n"
        let changed = try RulesetLoader(library: library).parse(text, file: "qof-2025-26.yaml")
        #expect(changed.sha256 != original.sha256)
        let reports = site.base.appending(path: "reports")
        let q = ExtractProcessor(directories: site.directories, rulesets: [changed], library: library, worker: "m", reportsDirectory: reports)
        let m = Maintenance(processor: q, logger: .init(label: "t"))
        #expect(try await m.recomputeLatest(using: conn) == 2)
        #expect(try await m.recomputeLatest(using: conn) == 0)
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 4)
        // The recomputed figures reach the practices' reports.
        let practices = try FileManager.default.contentsOfDirectory(atPath: reports.path)
        #expect(practices.count == 2)
        for ods in practices {
            #expect(try FileManager.default.contentsOfDirectory(atPath: reports.appending(path: ods).path).count == 5)
        }
    }

    @Test("a report a power cut left empty is rewritten at start-up; a stale temporary file goes, a fresh one and a declared report stay")
    func repairsEmptyReports() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 300, seed: 23)
        let reports = site.base.appending(path: "reports")
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library,
                                 worker: "m", reportsDirectory: reports)
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        let fm = FileManager.default
        let ods = try #require(try fm.contentsOfDirectory(atPath: reports.path).first)
        let folder = reports.appending(path: ods)
        let json = try #require(try fm.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".json") && !$0.hasSuffix(".fhir.json") })
        let original = try Data(contentsOf: folder.appending(path: json))
        #expect(!original.isEmpty)
        // What a power cut can leave: an empty report, temporary files; beside a declared report (written on request).
        try Data().write(to: folder.appending(path: json))
        let stale = folder.appending(path: ".\(json).99.1.tmp")
        let fresh = folder.appending(path: ".\(json).99.2.tmp")
        let declared = folder.appending(path: "qof-2025-26-2026-03-31-declared.csv")
        for url in [stale, fresh, declared] { try Data().write(to: url) }
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(-3_600)], ofItemAtPath: stale.path)

        let m = Maintenance(processor: p, logger: .init(label: "t"))
        #expect(await m.repairReports(using: conn) == 1)
        let rewritten = try Data(contentsOf: folder.appending(path: json))
        #expect(rewritten.count == original.count)
        #expect(try JSONSerialization.jsonObject(with: rewritten) is [String: Any])
        #expect(!fm.fileExists(atPath: stale.path))
        #expect(fm.fileExists(atPath: fresh.path))
        #expect(fm.fileExists(atPath: declared.path))
        #expect(await m.repairReports(using: conn) == 0, "nothing left to repair")
    }

    @Test("reports lost after the commit (missing) or older than their run (stale) are rewritten from the database")
    func rewritesMissingAndStaleReports() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 2, patients: 300, seed: 24)
        let reports = site.base.appending(path: "reports")
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library,
                                 worker: "m", reportsDirectory: reports)
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        let fm = FileManager.default
        let practices = try fm.contentsOfDirectory(atPath: reports.path).sorted()
        #expect(practices.count == 2)
        // A fault between the commit and the reports: one practice's reports are gone, the other's HTML is old.
        try fm.removeItem(at: reports.appending(path: practices[0]))
        let html = try #require(try fm.contentsOfDirectory(atPath: reports.appending(path: practices[1]).path).first { $0.hasSuffix(".html") })
        let htmlPath = reports.appending(path: practices[1]).appending(path: html).path
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(-86_400)], ofItemAtPath: htmlPath)
        let m = Maintenance(processor: p, logger: .init(label: "t"))
        #expect(await m.repairReports(using: conn) == 2)
        #expect(try fm.contentsOfDirectory(atPath: reports.appending(path: practices[0]).path).count == ReportFormat.allCases.count)
        let modified = try #require(try fm.attributesOfItem(atPath: htmlPath)[.modificationDate] as? Date)
        #expect(Date().timeIntervalSince(modified) < 600)
        #expect(await m.repairReports(using: conn) == 0, "nothing left to rewrite")
    }

    @Test("patient-level outcomes older than the current and previous QOF year are purged; aggregates stay")
    func retention() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        try await conn.executeScript(
            """
            INSERT INTO organisation VALUES ('A81001', 'practice', 'T', now(), NULL);
            INSERT INTO computation_run (id, practice_ods, ruleset_id, ruleset_sha256, cluster_version, achievement_date, list_size, engine_version)
            VALUES (1, 'A81001', 'qof-2023-24', 'x', 'c', '2024-03-31', 10, 'e'),
                   (2, 'A81001', 'qof-2025-26', 'x', 'c', '2026-03-31', 10, 'e');
            INSERT INTO indicator_result (run_id, indicator_id, denominator, numerator) VALUES (1, 'HYP008', 1, 1), (2, 'HYP008', 1, 1);
            INSERT INTO patient_outcome_set VALUES (1, 'HYP008', 'numerator', 'numerator 1', NULL, '{P1}'),
                                                   (2, 'HYP008', 'numerator', 'numerator 1', NULL, '{P1,P2}');
            """)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 100, seed: 22)
        let p = ExtractProcessor(directories: site.directories, rulesets: [], library: ExtractProcessorTests.library, worker: "m")
        let n = try await Maintenance(processor: p, logger: .init(label: "t"))
            .purgePatientOutcomes(keepingYears: 2, today: Day(year: 2026, month: 11, day: 23)!, using: conn)
        #expect(n == 1)
        #expect(try await conn.query("SELECT DISTINCT run_id FROM patient_outcome")[0].decode(0, as: Int.self) == 2)
        #expect(try await conn.query("SELECT count(*) FROM patient_outcome")[0].decode(0, as: Int.self) == 2)
        #expect(try await conn.query("SELECT count(*) FROM indicator_result")[0].decode(0, as: Int.self) == 2)
    }
}

@Suite("Daemon configuration")
struct DaemonConfigurationTests {
    func write(_ text: String) throws -> String {
        let url = TestFolders.make("config").appendingPathExtension("yaml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("defaults: embedded database, loopback HTTP, directories under the state directory")
    func defaults() throws {
        let c = try DaemonConfiguration.load(file: nil, environment: [:], defaultStateDirectory: "/var/lib/qofd")
        #expect(c.databaseURL == nil)
        #expect(c.listen == "127.0.0.1:8470")
        #expect(c.inbox == "/var/lib/qofd/inbox")
    }

    @Test("environment variables win over the file")
    func environmentOverrides() throws {
        let file = try write("poll_interval: 10\nrulesets: [qof-2025-26]\n")
        let c = try DaemonConfiguration.load(file: file, environment: ["QOFD_POLL_INTERVAL": "45", "QOFD_WORKERS": "3"], defaultStateDirectory: "/s")
        #expect(c.pollInterval == 45 && c.workers == 3)
    }

    @Test("an invalid configuration names the option", arguments: [
        ("poll_interval: fast\n", "poll_interval"), ("workers: 0\n", "workers"), ("listen: nowhere\n", "listen"),
        ("recompute_at: 25:00\n", "recompute_at"), ("inbox: relative/path\n", "inbox"), ("pol_interval: 5\n", "pol_interval"),
        ("population_summary: sometimes\n", "population_summary"),
    ])
    func invalid(_ text: String, _ option: String) throws {
        let file = try write(text)
        do {
            _ = try DaemonConfiguration.load(file: file, environment: [:], defaultStateDirectory: "/s")
            Issue.record("expected \(option) to be refused")
        } catch let e as ConfigurationError {
            #expect(e.option == option)
        }
    }

    @Test("the population summary is on by default and can be turned off")
    func populationSummarySetting() throws {
        #expect(try DaemonConfiguration.load(file: nil, environment: [:], defaultStateDirectory: "/s").populationSummary)
        #expect(try !DaemonConfiguration.load(file: try write("population_summary: false\n"), environment: [:], defaultStateDirectory: "/s").populationSummary)
    }

    @Test("the password comes from a file and is added to the connection string, never from the command line")
    func passwordFile() throws {
        let secret = try write("s3cret'pw\n")
        let file = try write("database_url: host=db dbname=qofd user=qofd_daemon\ndatabase_password_file: \(secret)\n")
        let c = try DaemonConfiguration.load(file: file, environment: [:], defaultStateDirectory: "/s")
        #expect(try c.conninfo(embedded: "") == "host=db dbname=qofd user=qofd_daemon password='s3cret\\'pw'")
    }
}

@Suite("Stored results for a PCN")
struct PCNResultsTests {
    @Test("membership is effective-dated: a practice that moved PCN counts in the old one before the move only")
    func membership() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let a = PracticeInfo(ods: "A81001", name: "A", pcnODS: "U11111", pcnName: "North")
        let moved = PracticeInfo(ods: "A81001", name: "A", pcnODS: "U22222", pcnName: "South")
        let b = PracticeInfo(ods: "A81002", name: "B", pcnODS: "U11111", pcnName: "North")
        try await conn.withTransaction { c in
            try RunStore.recordOrganisations(a, on: Day(year: 2025, month: 3, day: 31)!, in: c)
            try RunStore.recordOrganisations(b, on: Day(year: 2025, month: 3, day: 31)!, in: c)
            try RunStore.recordOrganisations(moved, on: Day(year: 2026, month: 1, day: 1)!, in: c)
        }
        let before = try await ResultsQuery.members(of: "U11111", on: Day(year: 2025, month: 12, day: 31)!, in: conn)
        let after = try await ResultsQuery.members(of: "U11111", on: Day(year: 2026, month: 1, day: 1)!, in: conn)
        #expect(before == ["A81001", "A81002"])
        #expect(after == ["A81002"])
        #expect(try await ResultsQuery.members(of: "U22222", on: Day(year: 2026, month: 3, day: 31)!, in: conn) == ["A81001"])
    }
}
