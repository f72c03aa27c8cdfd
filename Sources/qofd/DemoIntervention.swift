import Clinical
import Clusters
import Extracts
import Foundation
import Postgres
import ReferenceData
import RulesEngine
import Storage
import Stratification
import Synth

/// The demo's intervention that works: on 5 October the first practice phones every other patient of HYP008's
/// worklist, and 60 % of them have a controlled blood pressure within six weeks (generated into the practice's
/// records before its year of extracts is written). After the pipeline has stored the year, the intervention is
/// recorded from the 5 October run, so its page shows the effect extract by extract, with its interval.
struct DemoIntervention {
    static let frozenOn = Day(year: 2025, month: 10, day: 5)!
    let members: [InterventionStore.Member]
    let practice: String

    /// Rewrites the practice's extract with the generated effect; the plan to record once the runs are stored.
    static func generate(_ written: Synthesizer.Written, library: ClusterLibrary, ruleset: Ruleset) throws -> DemoIntervention? {
        guard let final = ExtractLoader().load(written.directory).population, let bp = library["BP_COD"]?.concepts.min() else { return nil }
        let onDay = final.asOf(frozenOn)
        let result = Engine(try CompiledRuleset(ruleset, achievementDate: final.dataTo, library: library)).evaluate(onDay, patientOutcomes: true)
        let open = (result.outcomeSets ?? []).filter { $0.indicator == "HYP008" && $0.outcome == .denominator }.flatMap(\.members).map(Int.init).sorted()
        let acted = Set(open.enumerated().filter { $0.offset % 2 == 0 }.map { onDay.patientIDs[$0.element] })
        guard !acted.isEmpty else { return nil }
        let rows = Dictionary(uniqueKeysWithValues: final.patientIDs.enumerated().map { ($1, $0) })
        let (treated, _) = InterventionEffect(concept: bp, value: 128, value2: 78, share: 0.6)
            .apply(to: final, patients: acted.compactMap { rows[$0] }, from: frozenOn, seed: 2025)
        try FileManager.default.removeItem(at: written.directory)
        _ = try CSVExtractWriter.write(treated, system: "EMIS Web", to: written.directory)
        let imd = try Deprivation.bundledAcceptingLSOA2011.get(), ethnic = try EthnicGroups.bundled()
        let acting = Set(open.filter { acted.contains(onDay.patientIDs[$0]) })
        let members = InterventionStore.members(onDay, rows: open, acted: acting, on: frozenOn, decile: { imd.areas[$0]?.decile }, ethnicGroups: ethnic)
        return DemoIntervention(members: members, practice: written.practice.ods)
    }

    /// Records the intervention from the practice's 5 October run (followed at once through the later runs stored).
    func record(ruleset: String, in conn: PostgresConnection) async throws -> Int64? {
        try await conn.withTransaction { c in
            // A second demo over the same database keeps the first record.
            if let existing = try InterventionStore.list(practice: practice, in: c).first(where: { $0.createdBy == "qofd demo" }) { return existing.id }
            guard let run = try c.query(
                """
                SELECT c.id FROM computation_run c JOIN extract e ON e.id = c.extract_id
                WHERE c.practice_ods = \(practice) AND c.ruleset_id = \(ruleset) AND e.data_to = \(PostgresDate(Self.frozenOn)) ORDER BY c.id DESC LIMIT 1
                """).first?.decode(0, as: Int64.self) else { return nil }
            return try InterventionStore.create(
                practice: practice, name: "Blood pressure recall (generated for the demo)",
                whatWasDone: "Every other patient on the HYP008 worklist phoned and booked; 60 % of them had a controlled reading within six weeks (generated).",
                indicator: "HYP008", run: run, selection: "HYP008 worklist on \(Self.frozenOn), every other patient", members: members, by: "qofd demo", in: c)
        }
    }
}
