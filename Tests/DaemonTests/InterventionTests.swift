import Clinical
import Clusters
import Daemon
import Extracts
import Foundation
import Postgres
import ReferenceData
import RulesEngine
import Storage
import Stratification
import Synth
import Testing
import TestSupport

/// An intervention on generated data with a known effect: half of HYP008's open denominator on 5 October is
/// acted on and 60 % of them get a controlled blood pressure within six weeks. qofd follows both arms into the
/// later extracts (through runs stored before the intervention was recorded, and by the pipeline after); its
/// counts must equal an independent evaluation of the same extracts, and its interval an independently written
/// Newcombe interval.
@Suite("Interventions and their impact")
struct InterventionTests {
    static let library = ExtractProcessorTests.library
    static let ruleset = ExtractProcessorTests.ruleset

    /// Who is in HYP008's numerator, and who is open (denominator, not achieving), evaluated straight from a population.
    static func outcomes(_ population: Population) throws -> (numerator: Set<String>, open: [Int]) {
        let result = Engine(try CompiledRuleset(ruleset, achievementDate: Day(year: 2026, month: 3, day: 31)!, library: library))
            .evaluate(population, patientOutcomes: true)
        let sets = (result.outcomeSets ?? []).filter { $0.indicator == "HYP008" }
        let numerator = Set(sets.filter { $0.outcome == .numerator }.flatMap(\.members).map { result.patientIDs[Int($0)] })
        return (numerator, sets.filter { $0.outcome == .denominator }.flatMap(\.members).map(Int.init).sorted())
    }

    /// Newcombe's hybrid score interval, written here from the paper's formulae (Newcombe 1998, method 10)
    /// independently of `ImpactEstimate`: Wilson limits as the roots of the score equation.
    static func newcombe(_ x1: Int, _ n1: Int, _ x2: Int, _ n2: Int) -> (Double, Double, Double) {
        func wilson(_ x: Int, _ n: Int) -> (Double, Double) {
            let z = 1.959963984540054, p = Double(x) / Double(n), n = Double(n)
            // Roots of (p - π)² = z² π (1 - π) / n.
            let a = 1 + z * z / n, b = -(2 * p + z * z / n), c = p * p
            let root = (b * b - 4 * a * c).squareRoot()
            return ((-b - root) / (2 * a), (-b + root) / (2 * a))
        }
        let (l1, u1) = wilson(x1, n1), (l2, u2) = wilson(x2, n2)
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        return (p1 - p2, p1 - p2 - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot(),
                p1 - p2 + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot())
    }

    @Test("the followed counts equal an independent evaluation; the generated effect shows, with Newcombe's interval")
    func knownEffect() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let conn = try await PostgresConnection.connect(url)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 6_000, seed: 41)
        let final = try #require(ExtractLoader().load(site.written[0].directory).population)
        let ods = final.practice.ods
        let frozenOn = Day(year: 2025, month: 10, day: 5)!, middle = Day(year: 2025, month: 12, day: 28)!
        // The arms, from the population as it stood on the day: every other open patient is acted on.
        let open = try Self.outcomes(final.asOf(frozenOn)).open.map { final.asOf(frozenOn).patientIDs[$0] }
        let acted = Set(open.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        #expect(acted.count >= 40, "enough open patients to see an effect (\(open.count))")
        let rows = Dictionary(uniqueKeysWithValues: final.patientIDs.enumerated().map { ($1, $0) })
        let bp = try #require(Self.library["BP_COD"]?.concepts.min())
        let (treated, got) = InterventionEffect(concept: bp, value: 128, value2: 78, share: 0.6)
            .apply(to: final, patients: acted.compactMap { rows[$0] }, from: frozenOn, seed: 7)
        #expect(!got.isEmpty)
        // The extracts: the day it was frozen, two months on, and the year end (the generated effect in all after the day).
        try FileManager.default.removeItem(at: site.written[0].directory)
        for day in [frozenOn, middle] { _ = try CSVExtractWriter.write(treated.asOf(day), to: site.directories.inbox.appending(path: "\(ods)-\(day)")) }
        let p = ExtractProcessor(directories: site.directories, rulesets: [Self.ruleset], library: Self.library, worker: "t")
        for dir in try p.pending() { _ = try await p.process(dir, using: conn) }
        let frozenRun = try await conn.query(
            "SELECT c.id FROM computation_run c JOIN extract e ON e.id = c.extract_id WHERE e.data_to = '2025-10-05' AND c.practice_ods = \(ods)")[0].decode(0, as: Int64.self)
        let imd = try Deprivation.imd2025AcceptingLSOA2011(), ethnic = try EthnicGroups.bundled()
        let onDay = treated.asOf(frozenOn)
        let members = InterventionStore.members(onDay, rows: open.map { onDay.patientIDs.firstIndex(of: $0)! }, acted: Set(acted.map { onDay.patientIDs.firstIndex(of: $0)! }),
                                                on: frozenOn, decile: { imd.areas[$0]?.decile }, ethnicGroups: ethnic)
        let id = try await conn.withTransaction { c in
            try InterventionStore.create(practice: ods, name: "BP recall", whatWasDone: "phoned", indicator: "HYP008", run: frozenRun,
                                         selection: "every other patient", members: members, by: "tester", in: c)
        }
        // The year-end extract comes after it was recorded: the pipeline follows it.
        _ = try CSVExtractWriter.write(treated, to: site.directories.inbox.appending(path: "\(ods)-final"))
        for dir in try p.pending() { _ = try await p.process(dir, using: conn) }
        let results = try await conn.withTransaction { c in try InterventionStore.results(id, in: c) }
        let overall = results.filter { $0.dimension == "all" }
        #expect(overall.map(\.dataTo) == [middle, final.dataTo], "followed through both later extracts")
        for (r, day) in zip(overall, [middle, final.dataTo]) {
            let numerator = try Self.outcomes(day == final.dataTo ? treated : treated.asOf(day)).numerator
            let comparison = Set(open).subtracting(acted)
            #expect(r.cohortN == acted.count && r.comparisonN == comparison.count)
            #expect(r.cohortReached == acted.intersection(numerator).count, "\(day): acted on, reached")
            #expect(r.comparisonReached == comparison.intersection(numerator).count, "\(day): comparison, reached")
            let d = try #require(r.difference)
            let (diff, low, high) = Self.newcombe(r.cohortReached, r.cohortN, r.comparisonReached, r.comparisonN)
            #expect(abs(d.difference - diff) < 1e-12 && abs(d.low - low) < 1e-9 && abs(d.high - high) < 1e-9)
        }
        // The generated effect: well over zero, and the interval excludes no effect.
        let last = try #require(overall.last?.difference)
        #expect(last.difference > 0.1 && last.low > 0, "\(last)")
        // The command prints the same stored follow-up.
        let cli = try CommandLineTests.qofd(["interventions", "--practice", ods, "--id", String(id), "--json", "--database-url", url])
        #expect(cli.status == 0, "\(cli.err)")
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as? [String: Any])
        let printedRows = printed["results"] as? [[String: Any]] ?? []
        #expect(printedRows.compactMap { $0["actedOnReached"] as? Int } == overall.map(\.cohortReached))
        #expect(try CommandLineTests.qofd(["interventions", "--practice", ods, "--database-url", url]).out.contains("BP recall"))
        // For whom: each breakdown adds up to the arms.
        for d in ["imd_quintile", "ethnic_group", "sex", "age_band"] {
            let groups = results.filter { $0.run == overall.last!.run && $0.dimension == d }
            #expect(groups.reduce(0) { $0 + $1.cohortN } == acted.count && groups.reduce(0) { $0 + $1.cohortReached } == overall.last!.cohortReached)
        }
        await conn.close()
    }

    @Test("an intervention on a case-finding cohort: those coded after it leave the cohort, counted with each later extract")
    func cohortIntervention() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let conn = try await PostgresConnection.connect(url)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 6_000, seed: 43)
        let final = try #require(ExtractLoader().load(site.written[0].directory).population)
        let ods = final.practice.ods
        let frozenOn = Day(year: 2025, month: 10, day: 5)!
        let stratifier = try PopulationStratifier(library: Self.library, ethnicGroups: try EthnicGroups.bundled())
        let imd = try Deprivation.imd2025AcceptingLSOA2011(), ethnic = try EthnicGroups.bundled()
        let cohort = try #require(stratifier.cohorts.first { $0.id == "possible-hypertension" })
        let onDay = final.asOf(frozenOn)
        let listed = CohortFinder(stratifier: stratifier, population: onDay, decile: { imd.areas[$0]?.decile }).members(cohort, on: frozenOn).map(\.row)
        #expect(listed.count >= 20, "enough people found to follow (\(listed.count))")
        let acted = Set(listed.enumerated().filter { $0.offset % 2 == 0 }.map { onDay.patientIDs[$0.element] })
        let rows = Dictionary(uniqueKeysWithValues: final.patientIDs.enumerated().map { ($1, $0) })
        // The known effect: 70 % of those acted on are diagnosed (a hypertension code) within six weeks.
        let hyp = try #require(Self.library["HYP_COD"]?.concepts.min())
        let (treated, diagnosed) = InterventionEffect(concept: hyp, value: .nan, value2: .nan, share: 0.7)
            .apply(to: final, patients: acted.compactMap { rows[$0] }, from: frozenOn, seed: 11)
        try FileManager.default.removeItem(at: site.written[0].directory)
        _ = try CSVExtractWriter.write(treated.asOf(frozenOn), to: site.directories.inbox.appending(path: "\(ods)-\(frozenOn)"))
        let p = ExtractProcessor(directories: site.directories, rulesets: [Self.ruleset], library: Self.library, worker: "t")
        for dir in try p.pending() { _ = try await p.process(dir, using: conn) }
        let run = try await conn.query("SELECT id FROM computation_run WHERE practice_ods = \(ods)")[0].decode(0, as: Int64.self)
        let members = InterventionStore.members(onDay, rows: listed, acted: Set(listed.filter { acted.contains(onDay.patientIDs[$0]) }), on: frozenOn,
                                                decile: { imd.areas[$0]?.decile }, ethnicGroups: ethnic)
        let id = try await conn.withTransaction { c in
            try InterventionStore.create(practice: ods, name: "Ambulatory BP for the possibly hypertensive", whatWasDone: "invited", indicator: "",
                                         cohort: cohort.id, run: run, selection: "every other", members: members, by: "tester", in: c)
        }
        _ = try CSVExtractWriter.write(treated, to: site.directories.inbox.appending(path: "\(ods)-final"))
        for dir in try p.pending() { _ = try await p.process(dir, using: conn) }
        let overall = try await conn.withTransaction { c in try InterventionStore.results(id, in: c) }.filter { $0.dimension == "all" }
        let last = try #require(overall.last)
        #expect(overall.count == 1 && last.dataTo == final.dataTo)
        // Independently: registered at the year end and no longer found by the rule.
        let finder = CohortFinder(stratifier: p.population!.stratifier, population: treated, decile: { imd.areas[$0]?.decile })
        let left = Set(listed.map { onDay.patientIDs[$0] }.filter { id in
            guard let r = treated.patientIDs.firstIndex(of: id) else { return false }
            return treated.isRegisteredAndAlive(r, on: treated.dataTo) && !finder.contains(r, cohort, on: treated.dataTo)
        })
        #expect(last.cohortReached == left.intersection(acted).count && last.comparisonReached == left.subtracting(acted).count)
        let coded = Set(diagnosed.map { treated.patientIDs[$0] }).filter { treated.isRegisteredAndAlive(rows[$0]!, on: treated.dataTo) }
        #expect(coded.isSubset(of: left), "everyone given a hypertension code has left the cohort")
        let d = try #require(last.difference)
        #expect(d.difference > 0.4 && d.low > 0, "\(d)")
        await conn.close()
    }

    @Test("Wilson and Newcombe at the edges: none and all reached, an empty group has no estimate")
    func intervalEdges() {
        let none = ImpactEstimate.difference(0, of: 20, 0, of: 20)!
        #expect(none.difference == 0 && none.low < 0 && none.high > 0)
        let all = ImpactEstimate.difference(20, of: 20, 0, of: 20)!
        #expect(all.difference == 1 && all.high <= 1 && all.low > 0.7)
        #expect(ImpactEstimate.difference(3, of: 10, 0, of: 0) == nil)
        let (d, l, h) = Self.newcombe(56, 70, 48, 80)   // Newcombe (1998), example (a): 0.2000 (0.0524 to 0.3339)
        let ours = ImpactEstimate.difference(56, of: 70, 48, of: 80)!
        #expect(abs(ours.difference - d) < 1e-12 && abs(ours.low - l) < 1e-9 && abs(ours.high - h) < 1e-9)
        #expect(abs(ours.low - 0.0524) < 0.0005 && abs(ours.high - 0.3339) < 0.0005)
    }
}
