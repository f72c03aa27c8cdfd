import Clinical
import Daemon
import Extracts
import Foundation
import Postgres
import Storage
import Testing
import TestSupport

/// Deliveries that look alike are told apart: a corrected extract under an archived name is archived under its
/// own name (and every reader finds it there), a whole re-delivery of a damaged extract is processed, and a
/// tampered copy of a processed extract is quarantined rather than archived as a duplicate.
@Suite("Re-deliveries")
struct RedeliveryTests {
    static func copy(_ from: URL, to: URL) throws {
        try FileManager.default.copyItem(at: from, to: to)
    }

    @Test("a corrected extract under a name already archived gets its own archive name, and readers take the path from its row")
    func correctedUnderSameName() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 600, seed: 81)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "r")
        let dir = try #require(p.pending().first)
        let name = dir.lastPathComponent
        let ods = site.written[0].practice.ods
        _ = try await p.process(dir, using: conn)
        // The corrected extract: one patient fewer, delivered under the same directory name.
        var changed = PopulationBuilder(try #require(ExtractLoader().load(site.directories.archive.appending(path: ods).appending(path: name)).population))
        changed.birthDates[0] = changed.birthDates[0].adding(days: -1)
        let population = try changed.build()
        _ = try CSVExtractWriter.write(population, to: site.directories.inbox.appending(path: name))
        guard case .processed(let id, _, _) = try await p.process(site.directories.inbox.appending(path: name), using: conn) else {
            Issue.record("the corrected extract was not processed"); return
        }
        let archived = try #require(try await conn.withTransaction { c in try ExtractQueue.archiveName(id, in: c) })
        #expect(archived == "\(name).\(id)")
        let corrected = site.directories.archive.appending(path: ods).appending(path: archived)
        #expect(FileManager.default.fileExists(atPath: corrected.appending(path: "manifest.json").path))
        // The web view and the recompute read the corrected extract, not the first one.
        let run = try #require(try await PracticeHistory.latestRun(practice: ods, ruleset: "qof-2025-26", in: conn))
        #expect(run.sourceName == archived)
        let reread = try #require(ExtractLoader().load(corrected).population)
        #expect(reread.birthDates[0] == population.birthDates[0])
    }

    @Test("a whole re-delivery of a damaged extract is processed; a tampered copy of a processed one is quarantined")
    func damagedThenWhole() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 600, seed: 82)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "r")
        let dir = try #require(p.pending().first)
        let name = dir.lastPathComponent
        let good = site.base.appending(path: "good")
        try Self.copy(dir, to: good)
        // Damaged in transit: a data file no longer matches the manifest.
        let events = dir.appending(path: "events.csv")
        try (try String(contentsOf: events, encoding: .utf8) + "X,2025-01-01,1,,,\n").write(to: events, atomically: true, encoding: .utf8)
        guard case .rejected = try await p.process(dir, using: conn) else { Issue.record("the damaged extract was not rejected"); return }
        // Sent again, whole: processed, not refused for ever as "already rejected".
        try Self.copy(good, to: site.directories.inbox.appending(path: name))
        guard case .processed = try await p.process(site.directories.inbox.appending(path: name), using: conn) else {
            Issue.record("the whole re-delivery was not processed"); return
        }
        #expect(try await conn.query("SELECT count(*) FROM extract WHERE status = 'processed'")[0].decode(0, as: Int.self) == 1)
        // The same manifest with a changed data file is not a duplicate: quarantined, with the reason.
        let tampered = site.directories.inbox.appending(path: "\(name)-again")
        try Self.copy(good, to: tampered)
        let patients = tampered.appending(path: "patients.csv")
        try (try String(contentsOf: patients, encoding: .utf8).replacingOccurrences(of: ",F,", with: ",M,")).write(to: patients, atomically: true, encoding: .utf8)
        guard case .rejected = try await p.process(tampered, using: conn) else { Issue.record("the tampered copy was not quarantined"); return }
        let quarantined = try FileManager.default.contentsOfDirectory(atPath: site.directories.quarantine.path)
        #expect(quarantined.contains { $0.hasPrefix("\(name)-again") })
        let ods = site.written[0].practice.ods
        #expect(!FileManager.default.fileExists(atPath: site.directories.archive.appending(path: ods).appending(path: "duplicates").path))
        // An untouched copy is a duplicate, archived apart from the extract itself.
        let duplicate = site.directories.inbox.appending(path: "\(name)-copy")
        try Self.copy(good, to: duplicate)
        guard case .duplicate = try await p.process(duplicate, using: conn) else { Issue.record("an exact copy is a duplicate"); return }
        #expect(FileManager.default.fileExists(atPath: site.directories.archive.appending(path: ods).appending(path: "duplicates/\(name)-copy").path))
    }
}

/// Nothing in the inbox can make the daemon loop for ever: a manifest the claim cannot use is a clear rejection,
/// and an extract that fails again and again is given up on and quarantined with the reason.
@Suite("Stuck extracts")
struct StuckExtractTests {
    @Test("an unparseable extractedAt and a control character in a file name are rejected with the reason, not retried")
    func badManifests() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 2, patients: 300, seed: 83)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "s")
        let dirs = p.pending()
        for (dir, edit) in zip(dirs, [
            { (m: inout [String: Any]) in m["extractedAt"] = "yesterday" },
            { (m: inout [String: Any]) in var files = m["files"] as! [[String: Any]]; files[0]["name"] = "events\u{0}.csv"; m["files"] = files },
        ]) {
            let url = dir.appending(path: "manifest.json")
            var m = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            edit(&m)
            try JSONSerialization.data(withJSONObject: m).write(to: url)
            let outcome = try await p.process(dir, using: conn)
            guard case .rejected = outcome else { Issue.record("\(dir.lastPathComponent): \(outcome)"); continue }
            #expect(!FileManager.default.fileExists(atPath: dir.path))
        }
        let reports = try FileManager.default.contentsOfDirectory(at: site.directories.quarantine, includingPropertiesForKeys: nil)
            .map { try String(contentsOf: $0.appending(path: "errors.txt"), encoding: .utf8) }
        #expect(reports.contains { $0.contains("extractedAt") })
        #expect(reports.contains { $0.contains("\\u{0}") })
    }

    @Test("liveness advances with every extract of a poll, not only when the poll ends")
    func progressPerExtract() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 3, patients: 200, seed: 86)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "l")
        let cluster = try await TestDatabase.cluster()
        let conninfo = cluster.conninfo(database: try await conn.query("SELECT current_database()")[0].decode(0, as: String.self))
        actor Ticks { var count = 0; func tick() { count += 1 } }
        let ticks = Ticks()
        let s = try await PipelineRunner.runOnce(p, conninfo: conninfo, workers: 1, logger: .init(label: "test"), progress: { await ticks.tick() })
        #expect(s.processed == 3)
        #expect(await ticks.count == 4, "one tick as each of the three extracts is taken, one as the worker finishes")
    }

    @Test("an extract that fails on every poll is quarantined after max_attempts, with the error")
    func givesUp() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 300, seed: 84)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let dir = try #require(FileManager.default.contentsOfDirectory(at: site.directories.inbox, includingPropertiesForKeys: nil).first)
        // A manifest that cannot be read (a directory where the file should be).
        try FileManager.default.removeItem(at: dir.appending(path: "manifest.json"))
        try FileManager.default.createDirectory(at: dir.appending(path: "manifest.json"), withIntermediateDirectories: true)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library,
                                 worker: "s", maxAttempts: 3)
        let cluster = try await TestDatabase.cluster()
        let conninfo = cluster.conninfo(database: try await conn.query("SELECT current_database()")[0].decode(0, as: String.self))
        var failed = 0, rejected = 0
        for _ in 0..<5 {
            let s = try await PipelineRunner.runOnce(p, conninfo: conninfo, workers: 1, logger: .init(label: "test"))
            failed += s.failed
            rejected += s.rejected
        }
        #expect(failed == 3 && rejected == 1, "three failures, then quarantined once; nothing left to retry")
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        let report = try String(contentsOf: site.directories.quarantine.appending(path: dir.lastPathComponent).appending(path: "errors.txt"), encoding: .utf8)
        #expect(report.contains("gave up after 3 attempts"))
    }
}

/// Rows left out of an accepted extract are never silent on the daemon's path.
@Suite("Dropped rows of accepted extracts")
struct DroppedRowsTests {
    @Test("an accepted extract with a bad row is archived with errors.txt and errors.json beside it")
    func reportedBesideTheArchive() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 300, seed: 85)
        defer { try? FileManager.default.removeItem(at: site.base) }
        let dir = try #require(FileManager.default.contentsOfDirectory(at: site.directories.inbox, includingPropertiesForKeys: nil).first)
        let events = dir.appending(path: "events.csv")
        let text = try String(contentsOf: events, encoding: .utf8) + "nobody,2025-01-01,38341003,,,\n"
        try Data(text.utf8).write(to: events)
        // The manifest describes the file as delivered (its checksum and rows).
        let url = dir.appending(path: "manifest.json")
        var m = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        m["files"] = (m["files"] as! [[String: Any]]).map { f in
            guard f["name"] as? String == "events.csv" else { return f }
            var g = f
            g["sha256"] = sha256Hex(Data(text.utf8))
            g["rows"] = (f["rows"] as! Int) + 1
            return g
        }
        try JSONSerialization.data(withJSONObject: m).write(to: url)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "d")
        guard case .processed(let id, _, _) = try await p.process(dir, using: conn) else { Issue.record("not processed"); return }
        let name = try #require(try await conn.withTransaction { c in try ExtractQueue.archiveName(id, in: c) })
        let archived = site.directories.archive.appending(path: site.written[0].practice.ods).appending(path: name)
        let report = try String(contentsOf: archived.appending(path: "errors.txt"), encoding: .utf8)
        #expect(report.contains("events.csv") && report.contains("unknown patient_id"))
        #expect(FileManager.default.fileExists(atPath: archived.appending(path: "errors.json").path))
    }
}
