import Clinical
import Extracts
import Foundation
import Logging
import Payments
import Postgres
import RulesEngine
import Storage

/// Scheduled work besides polling: recomputing every practice's latest extract when the rules or
/// the code lists changed (and on the nightly schedule, as CQRS re-aggregates nightly), purging
/// patient-level outcomes past their retention, and repairing reports a power cut left empty.
public struct Maintenance: Sendable {
    public let processor: ExtractProcessor
    public let logger: Logger

    public init(processor: ExtractProcessor, logger: Logger) {
        self.processor = processor
        self.logger = logger
    }

    /// Re-evaluates the latest processed extract of every practice (read back from the archive) with
    /// the current rulesets and code lists, storing a new run wherever this exact combination
    /// (extract, ruleset version, cluster version, achievement date) has not been computed yet.
    /// Safe with several workers: the unique index on runs turns a race into a no-op.
    /// - Returns: the number of runs added.
    @discardableResult
    public func recomputeLatest(using conn: PostgresConnection) async throws -> Int {
        let latest = try await conn.withTransaction { c in try ExtractQueue.latestProcessed(in: c) }
        var added = 0
        for (id, ods, archiveName) in latest {
            let directory = processor.directories.archive.appending(path: ods).appending(path: archiveName)
            guard FileManager.default.fileExists(atPath: directory.path) else {
                logger.warning("latest extract is no longer in the archive; cannot recompute", metadata: ["practice": "\(ods)"])
                continue
            }
            let existing = Set(try await conn.withTransaction { c in try PracticeHistory.computed(extract: id, in: c) }
                .map { "\($0.rulesetSHA256)/\($0.clusterVersion)/\($0.achievementDate)" })
            guard let population = processor.loader.load(directory).population else { continue }
            // A changed population model or code list: the extract's summary again, under the new fingerprint.
            if let step = processor.population,
                try await !conn.withTransaction({ c in try PopulationStore.exists(extractID: id, modelsSHA256: step.stratifier.modelsSHA256, in: c) })
            {
                let (summary, models) = step.summary(population, patientLevel: processor.storePatientOutcomes)
                try await conn.withTransaction { c in
                    _ = try PopulationStore.store(summary, extractID: id, practice: ods, asOf: population.dataTo, modelsSHA256: models,
                                                  ids: population.patientIDs, in: c)
                }
            }
            let due = try processor.applicableRulesets(for: population.dataTo).filter {
                !existing.contains("\($0.ruleset.sha256)/\($0.clusterVersion)/\($0.achievementDate)")
            }
            guard !due.isEmpty else { continue }
            let worker = processor.worker
            let records = due.map { processor.record(for: $0, population: population, extractID: id) }
            do {
                let pcnRuns = try await conn.withTransaction { c in
                    for r in records {
                        try InterventionStore.followAll(run: try RunStore.store(r, in: c), in: c)
                        try DeclarationStore.checkForChanges(
                            .init(practice: r.practice.ods, ruleset: r.rulesetID, achievementDate: r.achievementDate), actor: "qofd \(worker)", in: c)
                    }
                    return try processor.refreshPCNs(after: records, in: c)
                }
                added += records.count
                logger.info("recomputed the latest extract with changed rules or code lists", metadata: ["practice": "\(ods)", "runs": "\(records.count)"])
                await processor.writeReports(practice: ods, for: due.map { ($0.ruleset, $0.achievementDate) }, using: conn)
                for p in pcnRuns { await processor.writeReports(practice: p.pcn, for: [(p.ruleset, p.achievementDate)], using: conn) }
            } catch let error as PostgresError where error.sqlState == "23505" {
                // Another worker stored the same runs first.
            }
        }
        return added
    }

    /// Deletes patient-level outcomes of runs whose achievement date is older than the retention
    /// (the start of the QOF year `years - 1` before the current one). Aggregates are kept.
    /// - Returns: outcome sets (one per run, indicator, outcome and rule) deleted.
    @discardableResult
    public func purgePatientOutcomes(keepingYears years: Int, today: Day, using conn: PostgresConnection) async throws -> Int {
        let c = today.components
        let currentYearStart = c.month >= 4 ? Day(year: c.year, month: 4, day: 1)! : Day(year: c.year - 1, month: 4, day: 1)!
        let cutoff = currentYearStart.adding(years: -(years - 1))
        let n = try await conn.withTransaction { c in try PatientOutcomeRetention.purge(before: cutoff, in: c) }
        if n > 0 { logger.info("purged patient-level outcomes past retention", metadata: ["sets": "\(n)", "before": "\(cutoff)"]) }
        return n
    }
}
