import Clinical
import Daemon
import Extracts
import Foundation
import Postgres
import Reports
import Storage
import Testing
import TestSupport

/// Each processed extract stores its population summary beside its runs: every registered patient in exactly
/// one segment (the segments add up to the run's list size), a frailty for everyone 65+, QRISK3 bands within
/// those aged 25–84.
@Suite("Population summary stored with each extract")
struct PopulationStepTests {
    @Test("segments add up to the list; frailty covers the 65+; QRISK3 bands stay within 25–84; stored once per extract")
    func storedWithTheRuns() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let conn = try await PostgresConnection.connect(url)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 3_000, seed: 19)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "t")
        let dir = try #require(p.pending().first)
        let population = try #require(ExtractLoader().load(dir).population)
        _ = try await p.process(dir, using: conn)
        let ods = site.written[0].practice.ods
        let (run, counts) = try #require(try await conn.withTransaction { c in try PopulationStore.latest(practice: ods, in: c) })
        let listSize = try await conn.query("SELECT list_size FROM computation_run WHERE practice_ods = \(ods) ORDER BY id DESC LIMIT 1")[0].decode(0, as: Int.self)
        #expect(run.listSize == listSize && run.asOf == population.dataTo)
        func total(_ measure: String, dimension: String = "all") -> Int {
            counts.filter { $0.measure == measure && $0.dimension == dimension }.reduce(0) { $0 + $1.value }
        }
        #expect(total("segment") == listSize, "every registered patient in exactly one segment")
        for d in ["imd_quintile", "ethnic_group", "sex", "age_band"] { #expect(total("segment", dimension: d) == listSize, "\(d)") }
        let registered = population.patientIDs.indices.filter { population.isRegisteredAndAlive($0, on: population.dataTo) }
        let over65 = registered.filter { population.birthDates[$0].age(on: population.dataTo) >= 65 }.count
        #expect(total("frailty") == over65 && over65 > 0)
        let adults = registered.filter { (25...84).contains(population.birthDates[$0].age(on: population.dataTo)) }.count
        #expect(total("qrisk3") > 0 && total("qrisk3") <= adults)
        #expect(counts.contains { $0.measure == "frailty" && $0.category.hasPrefix("recorded") })
        #expect(counts.contains { $0.measure == "frailty" && $0.category.hasPrefix("estimated") })
        #expect(try await conn.query("SELECT count(*) FROM population_run")[0].decode(0, as: Int.self) == 1)
        // The report carries the summary of its run's extract, with ClinRisk's disclaimer.
        let report = try #require(try await conn.withTransaction { c in
            try ReportData.load(practice: ods, ruleset: ExtractProcessorTests.ruleset, achievementDate: Day(year: 2026, month: 3, day: 31)!, in: c)
        })
        let summary = try #require(report.population)
        #expect(summary.listSize == listSize && summary.segments.reduce(0) { $0 + $1.patients } == listSize)
        let html = ReportRenderer.html(report)
        #expect(html.contains("Population (from this extract") && html.contains("qrisk.org"))
        await conn.close()
        // The command prints the same stored figures.
        let cli = try CommandLineTests.qofd(["population", "--practice", ods.lowercased(), "--json", "--database-url", url])
        #expect(cli.status == 0, "\(cli.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as? [String: Any])
        #expect(json["listSize"] as? Int == listSize)
        let segments = (json["counts"] as? [[String: Any]] ?? []).filter { $0["measure"] as? String == "segment" }
        #expect(segments.compactMap { $0["patients"] as? Int }.reduce(0, +) == listSize)
        #expect(try CommandLineTests.qofd(["population", "--practice", "Y99999", "--database-url", url]).status == 1)
        // A PCN: each member's latest summary and the sum, suppressed as beyond the practice (to the nearest 5).
        let pcn = try #require(site.written[0].practice.pcnODS)
        let network = try CommandLineTests.qofd(["population", "--pcn", pcn, "--json", "--database-url", url])
        #expect(network.status == 0, "\(network.err)")
        let pcnJSON = try #require(try JSONSerialization.jsonObject(with: Data(network.out.utf8)) as? [String: Any])
        #expect((pcnJSON["practices"] as? [[String: Any]])?.map { $0["practice"] as? String } == [ods])
        let pcnSegments = (pcnJSON["counts"] as? [[String: Any]] ?? []).filter { $0["measure"] as? String == "segment" }
        #expect(!pcnSegments.isEmpty && pcnSegments.allSatisfy { ($0["patients"] as? Int).map { $0 % 5 == 0 } ?? true })
        #expect(pcnJSON["listSize"] as? Int == Int((Double(listSize) / 5).rounded()) * 5)
        let table = try CommandLineTests.qofd(["population", "--pcn", pcn, "--database-url", url])
        #expect(table.status == 0 && table.out.contains(ods) && table.out.contains("segment"))
    }
}
