import Clinical
import Clusters
import Daemon
import Foundation
import Postgres
import Reports
import RulesEngine
import Storage
import Synth
import Testing
import TestSupport

/// Reports for a synthetic practice, checked by real tools: headless Chromium for the HTML page and
/// the `fhir.resources` validator for the FHIR MeasureReport.
@Suite("Declaration reports")
struct ReportTests {
    static let library: ClusterLibrary = try! ClusterLibrary.bundled()
    static let ruleset: Ruleset = try! RulesetLoader(library: library).loadAll()["qof-2025-26"]!
    static let day = Day(year: 2026, month: 3, day: 31)!

    static func storedPractice() async throws -> (PostgresConnection, String, URL) {
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("report")
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        var o = Synthesizer.Options()
        o.seed = 51
        o.practices = 1
        o.patients = 2_500
        let written = try Synthesizer(library: library).write(o, to: dirs.inbox)
        let p = ExtractProcessor(directories: dirs, rulesets: [ruleset], library: library, worker: "r")
        for d in p.pending() { _ = try await p.process(d, using: conn) }
        return (conn, written[0].practice.ods, base)
    }

    static func run(_ program: String, _ arguments: [String], input: Data? = nil) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let inPipe = Pipe()
        if input != nil { p.standardInput = inPipe }
        try p.run()
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try inPipe.fileHandleForWriting.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("HTML in headless Chromium, CSV, JSON and a FHIR MeasureReport valid against the R4 model")
    func everyFormat() async throws {
        let (conn, ods, base) = try await Self.storedPractice()
        let data = try #require(try await ReportData.load(practice: ods, ruleset: Self.ruleset, achievementDate: Self.day, in: conn))
        let files = try ReportWriter.write(data, formats: ReportFormat.allCases, to: base.appending(path: "reports"))
        #expect(files.count == ReportFormat.allCases.count)

        // HTML: rendered by a real browser; its text has the practice, the indicators and the summary.
        let html = files.first { $0.pathExtension == "html" }!
        let (status, dom) = try Self.run("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html.absoluteString])
        #expect(status == 0, "\(dom.suffix(500))")
        #expect(dom.contains(ods) && dom.contains("HYP008") && dom.contains("Points achieved") && dom.contains("awaiting practice declaration"))
        #expect(!dom.contains("http://") || dom.contains("http://www.w3.org/2000/svg"))  // no external assets
        let screenshot = base.appending(path: "report.png")
        let (shotStatus, _) = try Self.run("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                          "--window-size=1400,1800", "--screenshot=\(screenshot.path)", html.absoluteString])
        #expect(shotStatus == 0)
        #expect((try? Data(contentsOf: screenshot))?.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        // CSV: one row per indicator.
        let csv = try String(contentsOf: files.first { $0.pathExtension == "csv" }!, encoding: .utf8)
        #expect(csv.split(separator: "\n").count == Self.ruleset.indicators.count + 1)

        // JSON: decodes back to the same report.
        let json = try JSONDecoder().decode(ReportData.self, from: Data(contentsOf: files.first { $0.lastPathComponent.hasSuffix(".json") && !$0.lastPathComponent.hasSuffix(".fhir.json") }!))
        #expect(json.indicators.count == data.indicators.count && json.practice == ods)

        // FHIR: validated by the fhir.resources models (R4B, the R4 MeasureReport structure).
        let fhir = files.first { $0.lastPathComponent.hasSuffix(".fhir.json") }!
        // CQRS layout: register, denominator and numerator rows for every indicator.
        let cqrs = try String(contentsOf: files.first { $0.lastPathComponent.hasSuffix(".cqrs.csv") }!, encoding: .utf8)
        #expect(cqrs.contains(",\(ods),20260331,HYP008,Denominator,"))
        let script = """
            import sys
            from fhir.resources.R4B.measurereport import MeasureReport
            r = MeasureReport.model_validate_json(open(sys.argv[1]).read())
            assert r.type == "summary" and len(r.group) > 0
            print("valid", len(r.group))
            """
        let (valid, output) = try Self.run("python3", ["-c", script, fhir.path])
        #expect(valid == 0, "\(output)")
        // The validator is real: a broken report is refused.
        var broken = try JSONSerialization.jsonObject(with: Data(contentsOf: fhir)) as! [String: Any]
        var groups = broken["group"] as! [[String: Any]]
        var populations = groups[0]["population"] as! [[String: Any]]
        populations[0]["count"] = "many"
        groups[0]["population"] = populations
        broken["group"] = groups
        let brokenURL = base.appending(path: "broken.json")
        try JSONSerialization.data(withJSONObject: broken).write(to: brokenURL)
        #expect(try Self.run("python3", ["-c", script, brokenURL.path]).0 != 0)
    }

    @Test("a subject-list MeasureReport lists the patients behind each population and validates")
    func subjectList() async throws {
        let (conn, ods, base) = try await Self.storedPractice()
        let data = try #require(try await ReportData.load(practice: ods, ruleset: Self.ruleset, achievementDate: Self.day, subjects: true, in: conn))
        let hyp = try #require(data.indicators.first { $0.id == "HYP008" })
        #expect(data.subjects?["HYP008"]?["numerator"]?.count == hyp.numerator)
        let url = try ReportWriter.write(data, formats: [.fhir], to: base.appending(path: "subjects"))[0]
        #expect(url.lastPathComponent.contains("-subjects"))
        let script = """
            import sys
            from fhir.resources.R4B.measurereport import MeasureReport
            r = MeasureReport.model_validate_json(open(sys.argv[1]).read())
            assert r.type == "subject-list" and len(r.contained) > 0
            print(len(r.contained))
            """
        let (status, output) = try Self.run("python3", ["-c", script, url.path])
        #expect(status == 0, "\(output)")
    }

    @Test("reports for every member practice of a PCN")
    func pcnReports() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let base = TestFolders.make("pcnreport")
        let dirs = ExtractProcessor.Directories(inbox: base.appending(path: "inbox"), archive: base.appending(path: "archive"),
                                                quarantine: base.appending(path: "quarantine"))
        var o = Synthesizer.Options()
        o.seed = 52
        o.practices = 3
        o.patients = 3_000
        let written = try Synthesizer(library: Self.library).write(o, to: dirs.inbox)
        let p = ExtractProcessor(directories: dirs, rulesets: [Self.ruleset], library: Self.library, worker: "r",
                                 reportsDirectory: base.appending(path: "reports"))
        for d in p.pending() { _ = try await p.process(d, using: conn) }
        let pcn = try #require(written[0].practice.pcnODS)
        let members = try await ResultsQuery.members(of: pcn, on: Self.day, in: conn)
        #expect(members.count == 3)
        // The daemon wrote every member's reports after its run.
        for ods in members {
            for ext in ["html", "csv", "json", "fhir.json", "cqrs.csv"] {
                #expect(FileManager.default.fileExists(atPath: base.appending(path: "reports/\(ods)/qof-2025-26-2026-03-31.\(ext)").path), "\(ods) \(ext)")
            }
        }
    }

    @Test("a declared snapshot's report is reproducible byte for byte, even after later runs")
    func declaredReportIsReproducible() async throws {
        let (conn, ods, base) = try await Self.storedPractice()
        let subject = DeclarationStore.Subject(practice: ods, ruleset: Self.ruleset.id, achievementDate: Self.day)
        try await conn.withTransaction { c in _ = try DeclarationStore.declare(subject, by: "PM", note: nil, acceptIncomplete: true, in: c) }
        let first = try #require(try await ReportData.load(practice: ods, ruleset: Self.ruleset, achievementDate: Self.day, declared: true, in: conn))
        let a = try ReportWriter.write(first, formats: ReportFormat.allCases, to: base.appending(path: "a"))
        // Another run of the same figures (e.g. a nightly recomputation) and a fresh render.
        try await conn.executeScript("""
            INSERT INTO computation_run (practice_ods, ruleset_id, ruleset_sha256, cluster_version, achievement_date, list_size, engine_version)
            SELECT practice_ods, ruleset_id, ruleset_sha256, cluster_version, achievement_date, list_size, engine_version FROM computation_run LIMIT 1
            """)
        let second = try #require(try await ReportData.load(practice: ods, ruleset: Self.ruleset, achievementDate: Self.day, declared: true, in: conn))
        let b = try ReportWriter.write(second, formats: ReportFormat.allCases, to: base.appending(path: "b"))
        for (x, y) in zip(a, b) { #expect(try Data(contentsOf: x) == Data(contentsOf: y), "\(x.lastPathComponent)") }
        #expect(first.snapshotSHA256 != nil)
    }
}
