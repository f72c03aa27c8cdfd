import Clinical
import Clusters
import Extracts
import Foundation
import Logging
import Metrics
import Payments
import Postgres
import Reports
import RulesEngine
import Storage
import Stratification
import Synchronization

/// Takes one extract from the inbox to the database: claim it (lease), check and read it, evaluate
/// every configured ruleset, store all the runs and mark it processed in one transaction, then
/// archive it. A rejected extract is marked rejected and quarantined with its error report.
///
/// Crash-safe at every step: the database is changed only in transactions guarded by the lease, and
/// files move only after the database says what happened, so a restart finds each extract either
/// still to do (claim again, or take over an expired lease) or done (archive or quarantine it).
public struct ExtractProcessor: Sendable {
    public struct Directories: Sendable {
        public var inbox: URL
        public var archive: URL
        public var quarantine: URL
        public init(inbox: URL, archive: URL, quarantine: URL) {
            self.inbox = inbox
            self.archive = archive
            self.quarantine = quarantine
        }
    }

    /// What happened to one extract.
    public enum Outcome: Sendable, Equatable {
        case processed(extractID: Int64, runs: [Int64], patients: Int)
        case rejected(extractID: Int64?, problems: Int)
        case duplicate(extractID: Int64)
        case busy
        case incomplete
    }

    public let directories: Directories
    /// The rulesets to run; each extract is evaluated by those whose year covers its data-to date.
    public let rulesets: [Ruleset]
    public let library: ClusterLibrary
    public let worker: String
    public let leaseSeconds: Int
    /// Attempts at one extract before the pipeline gives up on it and quarantines it with the last error.
    public let maxAttempts: Int
    /// Failures of extracts not yet in the database (e.g. an unreadable manifest), by directory name.
    let failures = FailureLedger()
    public let storePatientOutcomes: Bool
    /// Where to write each practice's reports after a run (nil: none).
    public let reportsDirectory: URL?
    public let loader: ExtractLoader
    public let logger: Logger
    /// National payment figures per ruleset, read once (rulesets without them are stored without pounds).
    public let nationalFigures: [String: NationalFigures]
    /// The population health step (segments, frailty, QRISK3, Core20PLUS5 of each extract, stored with its runs);
    /// nil when turned off, or when its models cannot be read with these code lists (then the log says so).
    public let population: PopulationStep?
    /// The IIF figures of each DES ruleset that has them (PCN pounds).
    public let iifFigures: [String: IIFNationalFigures]
    /// Rulesets compiled for an achievement date, made once per date (every extract of a week shares them).
    let compiledCache = CompiledRulesetCache()
    public static let engineVersion = "qofd-0.1.0"

    public init(
        directories: Directories, rulesets: [Ruleset], library: ClusterLibrary, worker: String, leaseSeconds: Int = 120,
        maxAttempts: Int = 5, storePatientOutcomes: Bool = true, reportsDirectory: URL? = nil, nationalDirectory: URL? = nil,
        nationalFigures: [String: NationalFigures]? = nil, iifFigures: [String: IIFNationalFigures]? = nil, populationSummary: Bool = true,
        population: PopulationStep? = nil, loader: ExtractLoader = ExtractLoader(),
        logger: Logger = Logger(label: "qofd.pipeline")
    ) {
        self.reportsDirectory = reportsDirectory
        // Without figures given (tests, the demo), read them here; a broken file then means no pounds for its ruleset
        // (`make`, which the daemon uses, reads them with `nationalFigures(for:directory:)` and stops instead).
        self.nationalFigures = nationalFigures ?? Dictionary(uniqueKeysWithValues: rulesets.compactMap { r in
            (try? NationalFigures.loadIfPresent(year: r.id, directory: nationalDirectory))?.map { (r.id, $0) }
        })
        self.iifFigures = iifFigures ?? Dictionary(uniqueKeysWithValues: rulesets.filter { $0.kind == .des }.compactMap { r in
            (try? IIFNationalFigures.loadIfPresent(year: r.id, directory: nationalDirectory))?.map { (r.id, $0) }
        })
        if !populationSummary {
            self.population = nil
        } else if let population {
            self.population = population
        } else {
            do { self.population = try PopulationStep(library: library) } catch {
                self.population = nil
                logger.error("population health summaries are off: the models cannot be read", metadata: ["error": "\(error)"])
            }
        }
        self.directories = directories
        self.rulesets = rulesets
        self.library = library
        self.worker = worker
        self.leaseSeconds = leaseSeconds
        self.maxAttempts = max(1, maxAttempts)
        self.storePatientOutcomes = storePatientOutcomes
        self.loader = loader
        self.logger = logger
    }

    /// The national figures of each ruleset that has them; throws (naming the file and line) when a file is there
    /// but broken, so start-up stops rather than storing every run without pounds.
    public static func nationalFigures(for rulesets: [Ruleset], directory: URL?) throws -> [String: NationalFigures] {
        var out: [String: NationalFigures] = [:]
        for r in rulesets { if let f = try NationalFigures.loadIfPresent(year: r.id, directory: directory) { out[r.id] = f } }
        return out
    }

    /// Processes the extract in `directory` (a subdirectory of the inbox).
    public func process(_ directory: URL, using conn: PostgresConnection) async throws -> Outcome {
        guard ExtractLoader.isComplete(directory) else { return .incomplete }
        let name = directory.lastPathComponent
        let manifestData = try Data(contentsOf: directory.appending(path: Manifest.fileName))
        let sha = sha256Hex(manifestData)
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: manifestData), let dataTo = Day(iso: manifest.dataTo),
            manifest.practice.ods.range(of: #"^[A-Z][0-9]{5}$"#, options: .regularExpression) != nil,
            let extractedAt = Manifest.timestamp(manifest.extractedAt)
        else {
            // Not even identifiable: quarantine without a database row.
            let check = loader.load(directory)
            try Quarantine.move(check, to: directories.quarantine)
            logger.warning("extract rejected before claiming: unreadable manifest", metadata: ["extract": "\(name)"])
            return .rejected(extractID: nil, problems: check.problems.listed.count)
        }
        let identity = ExtractQueue.Identity(
            sha256: sha, practice: PracticeInfo(ods: manifest.practice.ods, name: manifest.practice.name, pcnODS: manifest.pcn?.ods,
                                                pcnName: manifest.pcn?.name),
            sourceName: name, system: manifest.system, encoding: manifest.encoding.rawValue,
            extractedAt: ISO8601DateFormatter().string(from: extractedAt),
            dataTo: dataTo)
        let worker = self.worker
        let leaseSeconds = self.leaseSeconds
        let claim = try await conn.withTransaction { c in try ExtractQueue.claim(identity, worker: worker, leaseSeconds: leaseSeconds, in: c) }
        let metadata: Logger.Metadata = ["extract": "\(name)", "practice": "\(identity.practice.ods)"]
        switch claim {
        case .busy:
            return .busy
        case .alreadyProcessed(let id):
            let name = try await conn.withTransaction { c in try ExtractQueue.archiveName(id, in: c) } ?? name
            let target = archiveDirectory(for: identity.practice.ods).appending(path: name)
            if !FileManager.default.fileExists(atPath: target.path) {
                // Processed, but stopped before it was archived: finish the work where the row says.
                try move(directory, to: archiveDirectory(for: identity.practice.ods), as: name)
                logger.notice("archived an extract processed before a restart", metadata: metadata)
                return .duplicate(extractID: id)
            }
            // The same manifest again: its files must still be the ones the manifest names, or it is not a duplicate.
            let check = loader.load(directory)
            guard check.population != nil else {
                try Quarantine.move(check, to: directories.quarantine)
                logger.warning("a delivery with the manifest of a processed extract does not match it; quarantined", metadata: metadata)
                return .rejected(extractID: id, problems: check.problems.listed.count)
            }
            try move(directory, to: archiveDirectory(for: identity.practice.ods).appending(path: "duplicates"))
            logger.info("extract already processed; archived the duplicate", metadata: metadata)
            return .duplicate(extractID: id)
        case .alreadyRejected(let id):
            // A re-delivery of a rejected extract that is now whole (e.g. a damaged file sent again) is new work.
            let check = loader.load(directory)
            if check.population != nil, try await conn.withTransaction({ c in try ExtractQueue.reopenRejected(id, in: c) }) {
                logger.notice("a rejected extract was delivered again, whole; processing it", metadata: metadata)
                return try await process(directory, using: conn)
            }
            try Quarantine.move(check, to: directories.quarantine)
            return .rejected(extractID: id, problems: check.problems.listed.count)
        case .claimed(let id, let takeover):
            if takeover { logger.notice("took over an extract whose worker stopped renewing its lease", metadata: metadata) }
            do {
                return try await work(on: directory, id: id, identity: identity, conn: conn, metadata: metadata)
            } catch let error as PostgresError where error.isConnectionLoss {
                throw error
            } catch is LeaseLost {
                // Another worker has the extract now: not a failure of this one (it must not count toward giving up).
                logger.warning("lost the lease on an extract while working on it; another worker has it", metadata: metadata)
                return .busy
            } catch {
                return try await failed(directory, id: id, error: error, conn: conn, metadata: metadata)
            }
        }
    }

    /// An extract whose processing failed: its lease is given back with the error (so the next poll tries it
    /// again, and the error shows), and after `maxAttempts` tries it is rejected and quarantined with it.
    private func failed(_ directory: URL, id: Int64, error: any Error, conn: PostgresConnection, metadata: Logger.Metadata) async throws -> Outcome {
        let reason = Manifest.printable(String("\(error)".prefix(2_000)))
        let worker = self.worker, maxAttempts = self.maxAttempts
        let attempts = try await conn.withTransaction { c -> Int in
            let n = try ExtractQueue.attempts(id, in: c)
            if n >= maxAttempts {
                try ExtractQueue.reject(id, worker: worker, reason: "gave up after \(n) attempts: \(reason)", in: c)
            } else {
                try ExtractQueue.release(id, worker: worker, error: reason, in: c)
            }
            return n
        }
        guard attempts >= maxAttempts else { throw ExtractFailed(reason: reason, attempts: attempts) }
        try Quarantine.move(.failed(directory, reason: "gave up after \(attempts) attempts: \(reason)"), to: directories.quarantine)
        logger.error("gave up on an extract after repeated failures; quarantined", metadata: metadata.merging(["attempts": "\(attempts)"]) { a, _ in a })
        return .rejected(extractID: id, problems: 1)
    }

    /// Counts a failure of an extract the database does not hold yet; true (once) when it is time to give up,
    /// after quarantining it with the reason.
    public func giveUpIfRepeated(_ directory: URL, error: any Error) -> Bool {
        guard failures.record(directory.lastPathComponent) >= maxAttempts, FileManager.default.fileExists(atPath: directory.path) else { return false }
        let reason = "gave up after \(maxAttempts) attempts: \(Manifest.printable(String("\(error)".prefix(2_000))))"
        do {
            try Quarantine.move(.failed(directory, reason: reason), to: directories.quarantine)
        } catch { return false }
        failures.forget(directory.lastPathComponent)
        logger.error("gave up on an extract after repeated failures; quarantined", metadata: ["extract": "\(directory.lastPathComponent)"])
        return true
    }

    /// Complete extracts waiting in the inbox, and how long the oldest has waited (by its manifest's time).
    public func backlog(now: Date = Date()) -> (count: Int, oldestSeconds: Double) {
        let pending = pending()
        let oldest = pending.compactMap { url in
            (try? FileManager.default.attributesOfItem(atPath: url.appending(path: Manifest.fileName).path)[.modificationDate]) as? Date
        }.min()
        return (pending.count, oldest.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    /// The work on a claimed extract, beside a child task that renews its lease: when the lease is lost the
    /// heartbeat throws `LeaseLost`, which cancels the work (it checks before it stores anything); when the work
    /// ends the heartbeat is cancelled. Both are children of this call: nothing outlives it.
    private func work(on directory: URL, id: Int64, identity: ExtractQueue.Identity, conn: PostgresConnection,
                      metadata: Logger.Metadata) async throws -> Outcome {
        let worker = self.worker
        let leaseSeconds = self.leaseSeconds
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: .seconds(max(1, leaseSeconds / 3)))
                    guard try await conn.withTransaction({ c in try ExtractQueue.renew(id, worker: worker, leaseSeconds: leaseSeconds, in: c) })
                    else { throw LeaseLost(extractID: id) }
                }
            }
            group.addTask { try await self.evaluateAndStore(directory, id: id, identity: identity, conn: conn, metadata: metadata) }
            while let next = try await group.next() {
                guard let outcome = next else { continue }
                group.cancelAll()
                return outcome
            }
            throw LeaseLost(extractID: id)
        }
    }

    private func evaluateAndStore(_ directory: URL, id: Int64, identity: ExtractQueue.Identity, conn: PostgresConnection,
                                  metadata: Logger.Metadata) async throws -> Outcome {
        let worker = self.worker
        let loader = self.loader
        let check = try await OffPool.run { loader.load(directory) }
        guard let population = check.population else {
            let summary = check.problems.fileProblems.prefix(5).map(\.description).joined(separator: "; ")
            try await conn.withTransaction { c in try ExtractQueue.reject(id, worker: worker, reason: summary, in: c) }
            try Quarantine.move(check, to: directories.quarantine)
            logger.warning("extract rejected and quarantined", metadata: metadata.merging(["problems": "\(check.problems.listed.count)"]) { a, _ in a })
            return .rejected(extractID: id, problems: check.problems.listed.count)
        }
        let compiledRulesets = try applicableRulesets(for: population.dataTo)
        if compiledRulesets.isEmpty {
            logger.warning("no configured ruleset covers this extract's date; stored without runs",
                           metadata: metadata.merging(["dataTo": "\(population.dataTo)"]) { a, _ in a })
        }
        let records = try await OffPool.run { [self] in compiledRulesets.map { record(for: $0, population: population, extractID: id) } }
        let step = self.population
        let populationSummary = step == nil ? nil : try await OffPool.run { step?.summary(population, patientLevel: storePatientOutcomes) }
        let counts = (population.patientCount, population.events.count, population.medications.count)
        let follows = try await cohortFollows(population, using: conn)
        // A lease lost while evaluating cancels this task: nothing is stored (the new owner stores it).
        if Task.isCancelled { throw LeaseLost(extractID: id) }
        let (runs, archiveName, pcnRuns) = try await conn.withTransaction { c in
            let ids = try records.map { try RunStore.store($0, in: c) }
            // Interventions frozen before this extract follow their patients into its runs (same transaction).
            for id in ids { try InterventionStore.followAll(run: id, in: c) }
            if let run = ids.first {
                for f in follows { try InterventionStore.storeFollow(f.intervention, run: run, members: f.members, reached: f.reached, in: c) }
            }
            let archiveName = try ExtractQueue.complete(id, worker: worker, patients: counts.0, events: counts.1, medications: counts.2, in: c)
            // A declared achievement whose figures this run changed goes back to the practice.
            for r in records {
                try DeclarationStore.checkForChanges(
                    .init(practice: r.practice.ods, ruleset: r.rulesetID, achievementDate: r.achievementDate), actor: "qofd \(worker)", in: c)
            }
            let pcnRuns = try refreshPCNs(after: records, in: c)
            if let (summary, models) = populationSummary {
                try PopulationStore.store(summary, extractID: id, practice: identity.practice.ods, asOf: population.dataTo, modelsSHA256: models,
                                          ids: population.patientIDs, in: c)
            }
            return (ids, archiveName, pcnRuns)
        }
        try move(directory, to: archiveDirectory(for: identity.practice.ods), as: archiveName)
        if check.problems.rowProblemTotal > 0 {
            // Rows left out of an accepted extract are reported beside it in the archive, logged and counted.
            let archived = archiveDirectory(for: identity.practice.ods).appending(path: archiveName)
            let report = ErrorReport(check)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try? encoder.encode(report).write(to: archived.appending(path: "errors.json"), options: .atomic)
            try? Data(report.text.utf8).write(to: archived.appending(path: "errors.txt"), options: .atomic)
            Counter(label: "qofd_rows_dropped_total").increment(by: check.problems.rowProblemTotal)
            logger.warning("rows left out of an accepted extract; see errors.txt beside it in the archive",
                           metadata: metadata.merging(["rows": "\(check.problems.rowProblemTotal)"]) { a, _ in a })
        }
        await writeReports(practice: identity.practice.ods, for: compiledRulesets.map { ($0.ruleset, $0.achievementDate) }, onlyIfChanged: true,
                           using: conn)
        for p in pcnRuns { await writeReports(practice: p.pcn, for: [(p.ruleset, p.achievementDate)], using: conn) }
        logger.info("extract processed", metadata: metadata.merging(["runs": "\(runs.count)", "patients": "\(counts.0)"]) { a, _ in a })
        return .processed(extractID: id, runs: runs, patients: counts.0)
    }

    /// Rulesets whose payment year covers `dataTo`, bound to the achievement date: the data-to date
    /// during the year (in-year reporting), the payment period end after it (year end).
    public func applicableRulesets(for dataTo: Day) throws -> [CompiledRuleset] {
        try rulesets.filter { dataTo >= $0.payPeriodStart && dataTo <= $0.payPeriodEnd.adding(months: 3) }
            .map { r in try compiledCache.compiled(r, achievementDate: min(dataTo, r.payPeriodEnd), library: library) }
    }

    /// Evaluates one ruleset over a population once and prices it: the run to store.
    func record(for compiled: CompiledRuleset, population: Population, extractID: Int64) -> RunRecord {
        let result = Engine(compiled).evaluate(population, patientOutcomes: storePatientOutcomes)
        let payment = nationalFigures[compiled.ruleset.id].map {
            PaymentCalculator.practice(result, ruleset: compiled.ruleset, national: $0)
        }
        return RunRecord(
            extractID: extractID, practice: population.practice, rulesetID: compiled.ruleset.id,
            rulesetSHA256: compiled.ruleset.sha256, clusterVersion: compiled.clusterVersion,
            achievementDate: compiled.achievementDate, result: result, engineVersion: Self.engineVersion, worker: worker,
            payment: payment, ruleset: compiled.ruleset, aspirationPercent: nationalFigures[compiled.ruleset.id]?.aspirationPercent)
    }

    private func archiveDirectory(for ods: String) -> URL { directories.archive.appending(path: ods) }

    /// Renames a directory into `parent` as `name` (adding a suffix if the name is taken): never half-moved.
    /// A directory already gone was moved by another worker that saw the extract done: nothing to do.
    private func move(_ directory: URL, to parent: URL, as name: String? = nil) throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory.path) else { return }
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        var target = parent.appending(path: name ?? directory.lastPathComponent)
        var n = 1
        while fm.fileExists(atPath: target.path) {
            n += 1
            target = parent.appending(path: "\(name ?? directory.lastPathComponent).\(n)")
        }
        do {
            try fm.moveItem(at: directory, to: target)
        } catch where !fm.fileExists(atPath: directory.path) {
            // Lost the race to another worker archiving the same finished extract.
        }
    }

    /// Complete extract directories in the inbox, oldest name first.
    public func pending() -> [URL] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directories.inbox.path) else { return [] }
        return names.sorted().filter { !$0.hasPrefix(".") }.map { directories.inbox.appending(path: $0) }
            .filter { ExtractLoader.isComplete($0) }
    }
}

/// An extract whose processing failed this time; it is tried again on a later poll (or given up on).
public struct ExtractFailed: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public let attempts: Int
    public var description: String { "attempt \(attempts) failed: \(reason)" }
}

/// Failures per extract directory not yet in the database, shared by the workers of one pipeline.
final class FailureLedger: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func record(_ name: String) -> Int { counts.withLock { c in c[name, default: 0] += 1; return c[name]! } }
    func forget(_ name: String) { counts.withLock { _ = $0.removeValue(forKey: name) } }
}

/// Compiled rulesets by ruleset version and achievement date, shared by the workers of one pipeline.
final class CompiledRulesetCache: Sendable {
    private let entries = Mutex<[String: CompiledRuleset]>([:])

    func compiled(_ ruleset: Ruleset, achievementDate: Day, library: ClusterLibrary) throws -> CompiledRuleset {
        let key = "\(ruleset.id)/\(ruleset.sha256)/\(achievementDate)"
        if let c = entries.withLock({ $0[key] }) { return c }
        let c = try CompiledRuleset(ruleset, achievementDate: achievementDate, library: library)
        entries.withLock { entries in
            if entries.count > 64 { entries.removeAll() }
            entries[key] = c
        }
        return c
    }
}

