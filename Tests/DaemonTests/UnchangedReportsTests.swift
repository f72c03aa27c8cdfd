import Clinical
import Extracts
import Foundation
import Reports
import Storage
import Synth
import Testing
import TestSupport
@testable import Daemon

/// A weekly extract that changes no figure leaves the practice's reports as they are (and the start-up
/// report check agrees they are not stale); one that changes a figure rewrites them.
@Suite("Reports rewritten only when figures change")
struct UnchangedReportsTests {
    @Test("an extract with the same figures for the same date rewrites no report; a changed one rewrites them all")
    func unchangedWeek() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 300, seed: 31)
        let reports = site.base.appending(path: "reports")
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library,
                                 worker: "m", reportsDirectory: reports)
        var population = try #require(ExtractLoader().load(site.written[0].directory).population)
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        let folder = reports.appending(path: population.practice.ods)
        func modified() throws -> [String: Date] {
            try Dictionary(uniqueKeysWithValues: FileManager.default.contentsOfDirectory(atPath: folder.path).map { name in
                (name, try #require(try FileManager.default.attributesOfItem(atPath: folder.appending(path: name).path)[.modificationDate] as? Date))
            })
        }
        let first = try modified()
        #expect(first.count == ReportFormat.allCases.count)
        try await Task.sleep(for: .milliseconds(20))

        // A week later, the same records: the run is stored, its figures are those of the run before, the reports stay.
        population.dataTo = Day(year: 2026, month: 4, day: 7)!
        _ = try CSVExtractWriter.write(population, to: site.directories.inbox.appending(path: "week-2"))
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        #expect(try await conn.query("SELECT count(*) FROM computation_run")[0].decode(0, as: Int.self) == 2)
        #expect(try modified() == first, "no report rewritten")
        #expect(await Maintenance(processor: p, logger: .init(label: "t")).repairReports(using: conn) == 0, "and none counts as stale")

        // Another week with records removed: figures change, every report is rewritten.
        var fewer = population.asOf(Day(year: 2025, month: 9, day: 30)!)
        fewer.dataTo = Day(year: 2026, month: 4, day: 14)!
        _ = try CSVExtractWriter.write(fewer, to: site.directories.inbox.appending(path: "week-3"))
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        let third = try modified()
        #expect(third.keys.sorted() == first.keys.sorted())
        #expect(third.allSatisfy { $0.value > first[$0.key]! }, "every report rewritten")
    }
}
