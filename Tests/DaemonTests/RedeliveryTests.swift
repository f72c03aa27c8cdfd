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
        var population = try #require(ExtractLoader().load(site.directories.archive.appending(path: ods).appending(path: name)).population)
        population.birthDates[0] = population.birthDates[0].adding(days: -1)
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
