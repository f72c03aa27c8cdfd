import Clinical
import Clusters
import Foundation
import Logging
import Postgres
import RulesEngine
import Storage
import Testing
import TestSupport
@testable import Web

/// Pages read a run as the pipeline stored it: the PCN flu page shows one date throughout, and the
/// patients behind a run are evaluated with the rules that run used, not with the rules configured now.
@Suite("Pages read stored runs as they were stored")
struct StoredRunReadingTests {
    @Test("the PCN flu table, curves and 'more to reach the target' all name the date of the latest figures and agree")
    func pcnFluPageOneDate() async throws {
        let f = try await WebFixture.shared.value
        let session = try Session(f, user: "pcnlead")
        let page = session.get("/pcn/\(f.pcn)")
        #expect(page.status == 200)
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        var numerator = 0, denominator = 0
        var dates = Set<String>()
        for ods in f.practices {
            let id = try #require(try await StoredFigures.latestRunID(practice: ods, ruleset: "flu-2025-26", in: conn))
            let figures = try #require(try await StoredFigures.load(run: id, in: conn))
            let cohort = try #require(figures.indicators.first { $0.id == "FLU_65PLUS" })
            numerator += cohort.numerator
            denominator += cohort.denominator
            dates.insert(figures.achievementDate.description)
        }
        let date = try #require(dates.count == 1 ? dates.first : nil)
        #expect(page.body.contains("Figures of the achievement date \(date); the curves below end on the same date"))
        // The curve's last point is the table's PCN total, on the same date.
        #expect(page.body.contains("on \(date): \(String(format: "%.1f%%", 100 * Double(numerator) / Double(denominator))) (\(numerator) of \(denominator))"),
                "the curve ends where the table stands")
        #expect(!page.body.contains("North PCN PCN"))
    }

    @Test("a worklist is built with the rules its run used, even after the configured rules changed")
    func worklistUsesTheRunsOwnRules() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let library = try ClusterLibrary.bundled()
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        let run = try #require(try await PracticeHistory.latestRun(practice: ods, ruleset: "qof-2025-26", in: conn))
        let text = try #require(try await PracticeHistory.ruleText(sha256: run.rulesetSHA256, in: conn), "the run's rule text is stored by its hash")
        let stored = try RulesetLoader(library: library).parse(text, file: "stored.yaml")
        #expect(stored.sha256 == run.rulesetSHA256)
        // The configured rules now say otherwise: HYP008's target is stricter.
        let changedText = text.replacingOccurrences(of: "BP_DAT.value <= 140 and BP_DAT.value2 <= 90", with: "BP_DAT.value <= 120 and BP_DAT.value2 <= 70")
        #expect(changedText != text)
        let changed = try RulesetLoader(library: library).parse(changedText, file: "changed.yaml")
        #expect(changed.sha256 != run.rulesetSHA256)
        let inputs = WebInputs(rulesets: [changed], library: library, archive: f.base.appending(path: "archive"), settings: WebSettings(),
                               nationalFigures: [:])
        let app = try await WebApp(conninfo: f.conninfo, logger: Logger(label: "test")) { inputs }
        let snapshot = try await app.snapshot(for: run, configured: changed, inputs: inputs)
        #expect(snapshot.compiled.ruleset.sha256 == run.rulesetSHA256, "evaluated with the run's own rules")
        #expect(snapshot.stale == nil)
        let figures = try #require(try await StoredFigures.load(run: run.id, in: conn))
        let hyp = try #require(figures.indicators.first { $0.id == "HYP008" })
        let def = try #require(snapshot.compiled.ruleset.indicators.first { $0.id == "HYP008" })
        let list = Worklist(snapshot, indicator: def, library: library)
        #expect(list.entries.count == hyp.denominator - hyp.numerator, "the worklist agrees with the stored denominator")
        // With other code lists than the run used, the page says plainly that the run is stale.
        var other = library
        other.add(CodeList(name: "ABPM_COD", source: "test", concepts: [9_999_999_001]))
        let staleInputs = WebInputs(rulesets: [changed], library: other, archive: inputs.archive, settings: WebSettings(), nationalFigures: [:])
        let freshApp = try await WebApp(conninfo: f.conninfo, logger: Logger(label: "test")) { staleInputs }
        let staleSnapshot = try await freshApp.snapshot(for: run, configured: changed, inputs: staleInputs)
        #expect(staleSnapshot.stale?.contains("other code lists") == true)
    }
}
