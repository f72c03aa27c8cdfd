import Clinical
import Clusters
import Extracts
import Foundation
import RulesEngine
import Storage

/// A practice's patients as of its latest stored run: the archived extract that run evaluated, read back,
/// with every patient's outcome as the run stored it (positions in the extract's roster, checked against the
/// re-read extract). Only when the run stored no patient outcomes (turned off, or past retention), or its
/// code lists differ from today's, are the patients evaluated again with the run's own rules (kept by hash in
/// `ruleset_version`), which the page says. Worklists, explanations and inequalities are built from it.
public struct PracticeSnapshot: Sendable {
    public let run: PracticeHistory.Run
    public let population: Population
    public let compiled: CompiledRuleset
    public let result: PracticeResult
    /// Patient index by id.
    public let patientIndex: [String: Int]
    /// The result's outcome sets of each indicator (positions in `result.outcomeSets`): one indicator's
    /// patients are read from its own sets, never by flattening every outcome of the practice.
    let setsOfIndicator: [String: [Int]]
    /// Set when the patients cannot be evaluated exactly as the stored run was (its code lists differ from
    /// those configured now): said plainly on the page, as the figures may then disagree.
    public let stale: String?
    /// False for a snapshot of who the patients are only (demographics beside the stored outcomes, for
    /// breakdowns): it has no records to explain.
    public let hasRecords: Bool

    typealias Stored = (rosterFingerprint: String?, sets: [StoredOutcomes.OutcomeSet])

    /// The run's patients with their records: outcomes as stored, or evaluated again when they cannot be.
    init(run: PracticeHistory.Run, population: Population, compiled: CompiledRuleset, stored: Stored? = nil) {
        let stale = Self.staleness(run, compiled)
        let index = Self.index(population)
        let result = (stale == nil ? stored.flatMap { Self.storedResult($0, population: population, index: index) } : nil)
            ?? Engine(compiled).evaluate(population, patientOutcomes: true)
        self.init(run: run, population: population, compiled: compiled, result: result, index: index, stale: stale, hasRecords: true)
    }

    /// Who the run's patients are, with their stored outcomes; nil when those cannot be used as they are (none
    /// stored, another roster, or code lists changed), as a population without records cannot be evaluated.
    init?(demographicsOf run: PracticeHistory.Run, population: Population, compiled: CompiledRuleset, stored: Stored?) {
        let index = Self.index(population)
        guard Self.staleness(run, compiled) == nil, let stored, let result = Self.storedResult(stored, population: population, index: index) else { return nil }
        self.init(run: run, population: population, compiled: compiled, result: result, index: index, stale: nil, hasRecords: false)
    }

    private init(run: PracticeHistory.Run, population: Population, compiled: CompiledRuleset, result: PracticeResult, index: [String: Int],
                 stale: String?, hasRecords: Bool) {
        self.run = run
        self.population = population
        self.compiled = compiled
        self.result = result
        self.stale = stale
        self.hasRecords = hasRecords
        patientIndex = index
        var sets: [String: [Int]] = [:]
        for (k, set) in (result.outcomeSets ?? []).enumerated() where set.outcome != .notInRegister { sets[set.indicator, default: []].append(k) }
        setsOfIndicator = sets
    }

    static func staleness(_ run: PracticeHistory.Run, _ compiled: CompiledRuleset) -> String? {
        !run.clusterVersion.isEmpty && compiled.clusterVersion != run.clusterVersion
            ? "This run was computed with other code lists than those configured now; the patients below are evaluated with today's lists "
                + "and may not match the stored figures until the daemon recomputes the run (at start, after a reload, or nightly)."
            : nil
    }

    static func index(_ population: Population) -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(population.patientCount)
        for (i, id) in population.patientIDs.enumerated() { index[id] = i }
        return index
    }

    /// The run's stored outcome sets as rows of the re-read population; nil when they cannot be mapped (the
    /// extract read back is not the roster they point into, or an identifier is not in it).
    static func storedResult(_ stored: (rosterFingerprint: String?, sets: [StoredOutcomes.OutcomeSet]), population: Population, index: [String: Int])
        -> PracticeResult?
    {
        if stored.sets.contains(where: { $0.positions != nil }), stored.rosterFingerprint != StoredOutcomes.fingerprint(population.patientIDs) { return nil }
        var sets: [PatientOutcomeSet] = []
        for s in stored.sets {
            var members: [Int32] = []
            if let positions = s.positions {
                guard positions.allSatisfy({ $0 >= 0 && Int($0) < population.patientCount }) else { return nil }
                members = positions
            } else {
                for id in s.patients ?? [] {
                    guard let row = index[id] else { return nil }
                    members.append(Int32(row))
                }
            }
            sets.append(PatientOutcomeSet(indicator: s.indicator, outcome: s.outcome, rule: s.rule, field: s.field, members: members))
        }
        return PracticeResult(ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: population.patientCount, registers: [],
                              indicators: [], outcomeSets: sets, patientIDs: population.patientIDs)
    }

    /// One indicator's outcomes, by patient index (the result's rows are the population's patients).
    public func outcomes(of indicator: String) -> [Int: PatientOutcome] {
        var out: [Int: PatientOutcome] = [:]
        for k in setsOfIndicator[indicator] ?? [] {
            let set = result.outcomeSets![k]
            for m in set.members {
                out[Int(m)] = PatientOutcome(patient: population.patientIDs[Int(m)], indicator: indicator, outcome: set.outcome, rule: set.rule, field: set.field)
            }
        }
        return out
    }
}

/// Loads snapshots from the archive and keeps the most recently used (one practice's extract is read
/// once, however many pages are opened; enough for a PCN's member practices on its inequalities page).
public actor SnapshotCache {
    private var entries: [String: PracticeSnapshot] = [:]
    private var order: [String] = []
    /// Worklists built from the cached snapshots (by run, rules, indicator and filter): a worklist is the same
    /// until the practice's next run, and reopening it (or exporting it) should not explain its patients again.
    private var worklists: [String: Worklist] = [:]
    private var worklistOrder: [String] = []
    private let capacity: Int

    public init(capacity: Int = 32) { self.capacity = capacity }

    /// Why a snapshot could not be made.
    public enum Problem: Error, CustomStringConvertible {
        case noExtract, notInArchive(String), unreadable(String)
        public var description: String {
            switch self {
            case .noExtract: return "this run came from imported CQRS counts; there are no patients behind it"
            case .notInArchive(let name): return "the extract \(name) is no longer in the archive"
            case .unreadable(let name): return "the archived extract \(name) can no longer be read"
            }
        }
    }

    static func worklistKey(_ s: PracticeSnapshot, _ indicator: String, _ filter: String) -> String {
        "\(s.run.id)/\(s.compiled.ruleset.sha256)/\(indicator)/\(filter)"
    }

    func cachedWorklist(_ s: PracticeSnapshot, indicator: String, filter: String) -> Worklist? { worklists[Self.worklistKey(s, indicator, filter)] }

    func keep(_ w: Worklist, of s: PracticeSnapshot, filter: String) {
        let key = Self.worklistKey(s, w.indicator.id, filter)
        if worklists.updateValue(w, forKey: key) == nil { worklistOrder.append(key) }
        while worklistOrder.count > capacity * 4 { worklists[worklistOrder.removeFirst()] = nil }
    }

    /// The snapshot of a run: from the cache, or read and evaluated (outside the actor, so several practices'
    /// extracts are read at once) and then kept.
    public nonisolated func snapshot(
        for run: PracticeHistory.Run, ruleset: Ruleset, library: ClusterLibrary, archive: URL,
        stored: @Sendable () async throws -> (rosterFingerprint: String?, sets: [StoredOutcomes.OutcomeSet])? = { nil }
    ) async throws -> PracticeSnapshot {
        if let s = await cached(run.id) { return s }
        guard let name = run.sourceName else { throw Problem.noExtract }
        let directory = archive.appending(path: run.practice).appending(path: name)
        guard FileManager.default.fileExists(atPath: directory.path) else { throw Problem.notInArchive(name) }
        guard let population = ExtractLoader().load(directory).population else { throw Problem.unreadable(name) }
        let compiled = try CompiledRuleset(ruleset, achievementDate: run.achievementDate, library: library)
        let s = PracticeSnapshot(run: run, population: population, compiled: compiled, stored: try await stored())
        await keep(s)
        return s
    }

    /// Who a run's patients are beside its stored outcomes, for breakdowns: only `patients.csv` is read (the
    /// records are not needed); the whole snapshot when one is cached or the stored outcomes cannot be used.
    public nonisolated func demographics(
        for run: PracticeHistory.Run, ruleset: Ruleset, library: ClusterLibrary, archive: URL,
        stored: @Sendable () async throws -> (rosterFingerprint: String?, sets: [StoredOutcomes.OutcomeSet])?
    ) async throws -> PracticeSnapshot {
        if let s = await cached(run.id) { return s }
        if let s = await cached(run.id, key: "demographics-\(run.id)") { return s }
        if let name = run.sourceName {
            let directory = archive.appending(path: run.practice).appending(path: name)
            var loader = ExtractLoader()
            loader.patientsOnly = true
            if let population = loader.load(directory).population,
                let s = PracticeSnapshot(demographicsOf: run, population: population,
                                         compiled: try CompiledRuleset(ruleset, achievementDate: run.achievementDate, library: library), stored: try await stored())
            {
                await keep(s, key: "demographics-\(run.id)")
                return s
            }
        }
        return try await snapshot(for: run, ruleset: ruleset, library: library, archive: archive, stored: stored)
    }

    private func cached(_ run: Int64, key: String? = nil) -> PracticeSnapshot? {
        let key = key ?? "\(run)"
        guard let s = entries[key] else { return nil }
        order.removeAll { $0 == key }
        order.append(key)
        return s
    }

    private func keep(_ s: PracticeSnapshot, key: String? = nil) {
        let key = key ?? "\(s.run.id)"
        if entries.updateValue(s, forKey: key) == nil { order.append(key) }
        while order.count > capacity { entries[order.removeFirst()] = nil }
    }
}

extension WebApp {
    /// The worklist of an indicator from a snapshot, built once per run and filter and kept beside the snapshot.
    func worklist(_ s: PracticeSnapshot, indicator: Indicator, library: ClusterLibrary, filter: String) async -> Worklist {
        if let w = await snapshots.cachedWorklist(s, indicator: indicator.id, filter: filter) { return w }
        let w = Worklist(s, indicator: indicator, library: library, filter: filter)
        await snapshots.keep(w, of: s, filter: filter)
        return w
    }
}
