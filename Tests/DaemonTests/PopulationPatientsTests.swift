import Clinical
import Clusters
import Daemon
import Extracts
import Foundation
import Postgres
import Storage
import Stratification
import Testing
import TestSupport

/// The population step's patient level is kept like patient outcomes (positions in the extract's roster, purged
/// with them), agrees with the stored counts, and feeds the worklists' risk order; the step reads the
/// processor's own code lists and a site's cohort files.
@Suite("Population health, patient level and site data")
struct PopulationPatientsTests {
    @Test("every counted patient is kept with segment, frailty and QRISK3; the rows add up to the stored counts; purged with the outcomes")
    func patientLevelAgreesWithCounts() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let conn = try await PostgresConnection.connect(url)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 2_500, seed: 23)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "t")
        let dir = try #require(p.pending().first)
        _ = try await p.process(dir, using: conn)
        let ods = site.written[0].practice.ods
        let (run, counts) = try #require(try await conn.withTransaction { c in try PopulationStore.latest(practice: ods, in: c) })
        func stored(_ measure: String, _ category: String) -> Int {
            counts.first { $0.measure == measure && $0.category == category && $0.dimension == "all" }?.value ?? 0
        }
        let rows = try await conn.query(
            "SELECT segment, frailty_source, frailty_category, efi_score::float8, qrisk3_percent::float8 FROM population_patient_row WHERE run_id = \(run.id)")
        #expect(rows.count == run.listSize)
        var segments: [String: Int] = [:], frailty: [String: Int] = [:], bands: [String: Int] = [:]
        for r in rows {
            segments[try r.decode(0, as: String.self), default: 0] += 1
            if let source = try r.decode(1, as: String?.self), let category = try r.decode(2, as: String?.self) {
                frailty["\(source) \(category)", default: 0] += 1
                if source == "estimated" { #expect(try r.decode(3, as: Double?.self) != nil, "an estimate always has its score") }
            }
            if let q = try r.decode(4, as: Double?.self) { bands[PopulationSummary.band(q), default: 0] += 1 }
        }
        for (segment, n) in segments { #expect(stored("segment", segment) == n, "segment \(segment)") }
        for (category, n) in frailty { #expect(stored("frailty", category) == n, "frailty \(category)") }
        for (band, n) in bands { #expect(stored("qrisk3", band) == n, "QRISK3 \(band)") }
        #expect(!frailty.isEmpty && !bands.isEmpty)
        // What the worklists read: one entry per counted patient, by roster row.
        let extractID = try await conn.query("SELECT extract_id FROM population_run WHERE id = \(run.id)")[0].decode(0, as: Int64.self)
        let risk = try await conn.withTransaction { c in try PopulationStore.patientRisk(extractID: extractID, in: c) }
        #expect(risk.count == run.listSize)
        #expect(risk.values.filter { $0.frailtyLevel > 0 }.count == frailty.values.reduce(0, +))
        // Purged with the patient outcomes; the counts stay.
        _ = try await conn.withTransaction { c in try PatientOutcomeRetention.purge(before: Day(year: 2100, month: 1, day: 1)!, in: c) }
        #expect(try await conn.query("SELECT count(*) FROM population_patient")[0].decode(0, as: Int.self) == 0)
        #expect(try await conn.query("SELECT count(*) FROM extract_roster")[0].decode(0, as: Int.self) == 0)
        #expect(try await conn.query("SELECT count(*) FROM population_count WHERE run_id = \(run.id)")[0].decode(0, as: Int.self) == counts.count)
        await conn.close()
    }

    @Test("without patient outcomes no patient level is kept")
    func noPatientLevelWithoutOutcomes() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let conn = try await PostgresConnection.connect(url)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 800, seed: 24)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "t",
                                 storePatientOutcomes: false)
        _ = try await p.process(try #require(p.pending().first), using: conn)
        #expect(try await conn.query("SELECT count(*) FROM population_run")[0].decode(0, as: Int.self) == 1)
        #expect(try await conn.query("SELECT count(*) FROM population_patient")[0].decode(0, as: Int.self) == 0)
        await conn.close()
    }

    @Test("the population models read the processor's code lists: an imported list fills a gap and changes the fingerprint")
    func siteCodeLists() throws {
        let shipped = ExtractProcessorTests.library
        let without = try PopulationStep(library: shipped)
        #expect(without.stratifier.segmentation.missingLists.contains("ACUTE_COD"))
        var site = shipped
        site.add(CodeList(name: "ACUTE_COD", source: "site import", concepts: [1_000_001]))
        let with = try PopulationStep(library: site)
        #expect(!with.stratifier.segmentation.missingLists.contains("ACUTE_COD"))
        #expect(with.stratifier.modelsSHA256 != without.stratifier.modelsSHA256)
    }

    @Test("a site's cohort files are added beside the shipped ones; a taken id or a broken file stops start-up naming the option")
    func siteCohorts() throws {
        let folder = TestFolders.make("cohorts")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("""
            cohorts:
              over-80-no-contact:
                label: Aged 80 or over, nothing coded in 6 months
                source: our PCN's frailty plan
                when:
                  - {age_at_least: 80}
                  - {no_contact_within: {months: 6}}
            """.utf8).write(to: folder.appending(path: "pcn.yaml"))
        let step = try PopulationStep(library: ExtractProcessorTests.library, cohortsDirectory: folder)
        let cohort = try #require(step.stratifier.cohorts.first { $0.id == "over-80-no-contact" })
        #expect(cohort.label == "Aged 80 or over, nothing coded in 6 months")
        #expect(step.stratifier.cohorts.contains { $0.id == "qrisk3-no-statin" }, "the shipped cohorts stay")
        // Through the configuration, as the daemon starts.
        let base = TestFolders.make("cohorts-site")
        try FileManager.default.createDirectory(at: base.appending(path: "inbox"), withIntermediateDirectories: true)
        func configuration(_ dir: URL) throws -> DaemonConfiguration {
            let file = base.appending(path: "qofd.yaml")
            try Data("state_dir: \(base.path)\ncohorts_dir: \(dir.path)\n".utf8).write(to: file)
            return try DaemonConfiguration.load(file: file.path, environment: [:], defaultStateDirectory: base.path)
        }
        let processor = try ExtractProcessor.make(try configuration(folder), worker: "t", logger: .init(label: "t"))
        #expect(processor.population?.stratifier.cohorts.contains { $0.id == "over-80-no-contact" } == true)
        try Data("cohorts:\n  qrisk3-no-statin:\n    label: again\n    source: x\n    when: [{age_at_least: 40}]\n".utf8)
            .write(to: folder.appending(path: "taken.yaml"))
        do {
            _ = try ExtractProcessor.make(try configuration(folder), worker: "t", logger: .init(label: "t"))
            Issue.record("a taken cohort id must stop start-up")
        } catch let e as ConfigurationError {
            #expect(e.option == "cohorts_dir" && e.description.contains("taken.yaml") && e.description.contains("qrisk3-no-statin"))
        }
    }
}
