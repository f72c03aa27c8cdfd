import Clinical
import Daemon
import Extracts
import Foundation
import Payments
import Postgres
import RulesEngine
import Storage
import Testing
import TestSupport

/// The Network Contract DES through the daemon: member practices' runs are summed into the PCN's own run
/// (its pounds worked out again here, independently, from the stored member runs), the PCN declares it, and
/// a member's corrected extract that changes the sum sends the declaration back.
@Suite("Network Contract DES at PCN level")
struct PCNDESTests {
    static let ruleset: Ruleset = try! RulesetLoader(library: ExtractProcessorTests.library).loadAll()["des-2025-26"]!

    @Test("the PCN's run is the sum of its members' latest runs, priced with the IIF figures; a changed member sends the PCN's declaration back")
    func pcnRunAndDeclaration() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 3, patients: 9_000, seed: 77)
        let p = ExtractProcessor(directories: site.directories, rulesets: [Self.ruleset], library: ExtractProcessorTests.library, worker: "t")
        for dir in p.pending() { _ = try await p.process(dir, using: conn) }
        let pcn = try #require(site.written[0].practice.pcnODS)
        let members = site.written.filter { $0.practice.pcnODS == pcn }.map(\.practice.ods)
        #expect(members.count >= 2, "the synthetic practices share a PCN")
        let date = Day(year: 2026, month: 3, day: 31)!

        // The stored PCN run: one per member extract that changed the sum, the latest made from every member's run.
        let (pcnRun, memberRuns, stored, figuresOfMembers) = try await conn.withTransaction { c in
            let run = try #require(try StoredFigures.latestRunID(practice: pcn, ruleset: Self.ruleset.id, on: date, in: c))
            let members = try PCNRuns.members(of: run, in: c)
            return (run, members, try StoredFigures.load(run: run, in: c)!, try members.map { try StoredFigures.load(run: $0.runID, in: c)! })
        }
        #expect(Set(memberRuns.map(\.practice)) == Set(members))
        let source = try await conn.query("SELECT source, extract_id IS NULL FROM computation_run WHERE id = \(pcnRun)")[0]
        #expect(try source.decode(0, as: String.self) == "pcn" && (try source.decode(1, as: Bool.self)))
        #expect(stored.listSize == figuresOfMembers.reduce(0) { $0 + $1.listSize })

        // Worked out again here from the members' stored counts and the shipped figures (facts §1.3).
        let national = try #require(try IIFNationalFigures.loadIfPresent(year: Self.ruleset.id))
        var expectedPounds = 0.0
        for def in Self.ruleset.indicators {
            let rows = figuresOfMembers.compactMap { $0.indicators.first { $0.id == def.id } }
            let den = rows.reduce(0) { $0 + $1.denominator }, num = rows.reduce(0) { $0 + $1.numerator }
            let mine = try #require(stored.indicators.first { $0.id == def.id })
            #expect(mine.denominator == den && mine.numerator == num, "\(def.id) summed over the members")
            guard rows.allSatisfy(\.completeness.computable), den > 0 else {
                #expect(mine.points == 0, "\(def.id) cannot be computed or has no patients: no points")
                continue
            }
            let achievement = 100 * Double(num) / Double(den)
            let share = min(1, max(0, (achievement - def.lowerThreshold) / (def.upperThreshold - def.lowerThreshold)))
            let points = achievement <= def.lowerThreshold ? 0 : def.points * share
            #expect(abs(mine.points - points) < 0.0001, "\(def.id) points")
            let listAdjustment = Double(stored.listSize) / national.meanPCNListSize
            let prevalenceAdjustment = (100 * Double(den) / Double(stored.listSize)) / national.prevalence[def.id]!
            let pounds = points * national.pointValue * listAdjustment * prevalenceAdjustment
            #expect(abs((mine.pounds ?? -1) - pounds) < 0.01, "\(def.id) pounds")
            expectedPounds += pounds
        }
        #expect(abs((stored.pounds ?? -1) - expectedPounds) < 0.02)
        #expect(stored.unverifiedFigures.contains("point_value"), "the pounds say they rest on unconfirmed figures")
        #expect(try #require(stored.indicators.first { $0.id == "HI-03" }).completeness.computable == false)

        // The PCN declares; a member's corrected extract that changes a count sends it back.
        let subject = DeclarationStore.Subject(practice: pcn, ruleset: Self.ruleset.id, achievementDate: date)
        try await conn.withTransaction { c in _ = try DeclarationStore.declare(subject, by: "PCN clinical director", note: nil, acceptIncomplete: true, in: c) }
        #expect(try await DeclarationStore.state(subject, in: conn) == .awaitingCommissionerApproval)
        let first = site.written[0].practice.ods
        let archived = try #require(try FileManager.default.contentsOfDirectory(at: site.directories.archive.appending(path: first),
                                                                                 includingPropertiesForKeys: nil).first)
        var builder = PopulationBuilder(try #require(ExtractLoader().load(archived).population))
        // Every FIT result recoded as something else: the practice's CAN-04 numerator falls to 0.
        let fit = try #require(builder.codes.lookup(1_049_361_000_000_101))
        let other = builder.codes.intern(1)
        builder.events = builder.events.map { e in e.code == fit ? Event(date: e.date, code: other, value: e.value, value2: e.value2) : e }
        let corrected = site.directories.inbox.appending(path: "\(first)-2026-03-31-corrected")
        _ = try CSVExtractWriter.write(try builder.build(), to: corrected)
        _ = try await p.process(corrected, using: conn)
        #expect(try await DeclarationStore.state(subject, in: conn) == .awaitingPracticeDeclaration)
        let last = try #require(try await DeclarationStore.auditTrail(practice: pcn, in: conn).last)
        #expect(last.action == "figures-changed" && last.note?.contains("CAN-04") == true)
        let newer = try await conn.withTransaction { c in try StoredFigures.latestRunID(practice: pcn, ruleset: Self.ruleset.id, on: date, in: c) }
        #expect(newer != pcnRun)
        await conn.close()
    }
}
