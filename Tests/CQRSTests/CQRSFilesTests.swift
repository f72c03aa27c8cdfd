import CQRS
import Clinical
import Clusters
import Extracts
import Foundation
import RulesEngine
import Synth
import Testing
import TestSupport

@Suite("CQRS files")
struct CQRSFilesTests {
    static let library: ClusterLibrary = try! ClusterLibrary.bundled()
    static let rulesets: [String: Ruleset] = try! RulesetLoader(library: library).loadAll()

    @Test("quality service codes map to rulesets and back")
    func serviceCodes() {
        #expect(CQRSFiles.qualityService("qof-2025-26") == "QOF2526")
        #expect(CQRSFiles.rulesetID("QOF2526") == "qof-2025-26")
        #expect(CQRSFiles.rulesetID("QOF2324") == "qof-2023-24")
    }

    @Test("per-field values written by qofd read back to the same counts and points")
    func roundTrip() throws {
        var o = Synthesizer.Options()
        o.seed = 31
        o.practices = 2
        o.patients = 2_000
        let written = try Synthesizer(library: Self.library).write(o, to: TestFolders.make("cqrs"))
        let ruleset = Self.rulesets["qof-2025-26"]!
        let engine = Engine(try CompiledRuleset(ruleset, library: Self.library))
        let results = try written.map { engine.evaluate(try #require(ExtractLoader().load($0.directory).population)) }
        let text = CQRSFiles.values(results, ruleset: ruleset, achievementDate: Day(year: 2026, month: 3, day: 31)!)
        #expect(text.hasPrefix(CQRSFiles.valuesHeader))
        #expect(text.contains(",HYP008,Hypertension Register,"))
        let imported = try CQRSFiles.read(text, rulesets: Self.rulesets, listSizes: Dictionary(uniqueKeysWithValues: results.map { ($0.ods, $0.listSize) }))
        #expect(imported.count == 2)
        for item in imported {
            let original = results.first { $0.ods == item.result.ods }!
            #expect(item.ruleset == "qof-2025-26")
            #expect(item.result.listSize == original.listSize)
            for i in original.indicators {
                let back = try #require(item.result.indicators.first { $0.id == i.id })
                // CQRS has no register row for some indicators (SMOK004, CS005, CS006), and a register indicator has its
                // register row only: what the file does not carry cannot come back.
                let def = ruleset.indicators.first { $0.id == i.id }!
                if ruleset.cqrsRegisterLabel(def) != nil { #expect(back.registerSize == i.registerSize, "\(i.id)") }
                if Ruleset.cqrsReportsCounts(def) { #expect(back.denominator == i.denominator && back.numerator == i.numerator, "\(i.id)") }
                #expect(back.fields == i.fields, "\(i.id)")
                #expect(abs(back.points - i.points) < 1e-9, "\(i.id)")
            }
        }
    }

    @Test("a malformed row is refused with its line")
    func malformed() {
        let text = CQRSFiles.valuesHeader + "\nQOF2526,Q,A81001,20260331,HYP008,Denominator,abc,N,AUTOMATED,01/04/2026,01:00:00,Y\n"
        #expect(throws: CQRSError.self) { try CQRSFiles.read(text, rulesets: Self.rulesets) }
        do { _ = try CQRSFiles.read(text, rulesets: Self.rulesets) } catch let e as CQRSError { #expect(e.line == 2) } catch {}
    }
}
