import Clinical
import Clusters
import Extracts
import Foundation
import RulesEngine
import Storage

/// A practice's patients as of its latest stored run: the archived extract that run evaluated, read
/// back and evaluated again with the run's own rules (kept by hash in `ruleset_version`; the engine is
/// deterministic, so the figures are the stored ones unless the code lists changed, which it says), with
/// every patient's outcome. Worklists, explanations and inequalities are
/// built from it; nothing patient-level is kept in the database for them.
public struct PracticeSnapshot: Sendable {
    public let run: PracticeHistory.Run
    public let population: Population
    public let compiled: CompiledRuleset
    public let result: PracticeResult
    /// Patient index by id.
    public let patientIndex: [String: Int]
    /// Outcomes per indicator, by patient index.
    public let outcomes: [String: [Int: PatientOutcome]]
    /// Set when the patients cannot be evaluated exactly as the stored run was (its code lists differ from
    /// those configured now): said plainly on the page, as the figures may then disagree.
    public let stale: String?

    init(run: PracticeHistory.Run, population: Population, compiled: CompiledRuleset) {
        self.run = run
        stale = !run.clusterVersion.isEmpty && compiled.clusterVersion != run.clusterVersion
            ? "This run was computed with other code lists than those configured now; the patients below are evaluated with today's lists "
                + "and may not match the stored figures until the daemon recomputes the run (at start, after a reload, or nightly)."
            : nil
        self.population = population
        self.compiled = compiled
        let result = Engine(compiled).evaluate(population, patientOutcomes: true)
        self.result = result
        var index: [String: Int] = [:]
        for (i, id) in population.patientIDs.enumerated() { index[id] = i }
        patientIndex = index
        var outcomes: [String: [Int: PatientOutcome]] = [:]
        for o in result.patients ?? [] where o.outcome != .notInRegister {
            if let p = index[o.patient] { outcomes[o.indicator, default: [:]][p] = o }
        }
        self.outcomes = outcomes
    }
}

/// Loads snapshots from the archive and keeps the most recently used (one practice's extract is read
/// once, however many pages are opened; enough for a PCN's member practices on its inequalities page).
public actor SnapshotCache {
    private var entries: [String: PracticeSnapshot] = [:]
    private var order: [String] = []
    private let capacity: Int

    public init(capacity: Int = 16) { self.capacity = capacity }

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

    public func snapshot(for run: PracticeHistory.Run, ruleset: Ruleset, library: ClusterLibrary, archive: URL) throws -> PracticeSnapshot {
        let key = "\(run.id)"
        if let s = entries[key] {
            order.removeAll { $0 == key }
            order.append(key)
            return s
        }
        guard let name = run.sourceName else { throw Problem.noExtract }
        let directory = archive.appending(path: run.practice).appending(path: name)
        guard FileManager.default.fileExists(atPath: directory.path) else { throw Problem.notInArchive(name) }
        guard let population = ExtractLoader().load(directory).population else { throw Problem.unreadable(name) }
        let compiled = try CompiledRuleset(ruleset, achievementDate: run.achievementDate, library: library)
        let s = PracticeSnapshot(run: run, population: population, compiled: compiled)
        entries[key] = s
        order.append(key)
        while order.count > capacity { entries[order.removeFirst()] = nil }
        return s
    }
}
