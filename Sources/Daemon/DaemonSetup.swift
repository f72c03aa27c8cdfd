import Clusters
import Foundation
import Logging
import Payments
import RulesEngine
import ServiceLifecycle
import UnixSignals

extension ExtractProcessor {
    /// Builds the pipeline a configuration describes: directories, rulesets (shipped plus
    /// `rules_dir`), code lists (shipped plus `clusters_dir`). Throws, naming the option, when
    /// something named does not exist.
    public static func make(_ c: DaemonConfiguration, worker: String, logger: Logger) throws -> ExtractProcessor {
        var library = try ClusterLibrary.bundled()
        if let dir = c.clustersDirectory {
            do {
                for list in try ClusterLibrary.load(directory: URL(fileURLWithPath: dir)).lists.values { library.add(list) }
            } catch { throw ConfigurationError(option: "clusters_dir", message: "cannot read \(dir): \(error)") }
        }
        let all: [String: Ruleset]
        do {
            all = try RulesetLoader(library: library).loadAll(directories: c.rulesDirectory.map { [URL(fileURLWithPath: $0)] } ?? [])
        } catch let e as RulesetError {
            throw ConfigurationError(option: "rules_dir", message: e.description)
        }
        let chosen = try c.rulesets.map { id -> Ruleset in
            guard let r = all[id] else {
                throw ConfigurationError(option: "rulesets", message: "unknown ruleset \(id); available: \(all.keys.sorted().joined(separator: ", "))")
            }
            return r
        }
        let dirs = Directories(
            inbox: URL(fileURLWithPath: c.inbox), archive: URL(fileURLWithPath: c.archive), quarantine: URL(fileURLWithPath: c.quarantine))
        // An inbox named in the configuration must exist: a mistyped path would otherwise be created and polled
        // for ever while the real deliveries pile up elsewhere. The default inbox under the state directory is made.
        var isDirectory: ObjCBool = false
        if c.inbox != c.stateDirectory + "/inbox",
            !FileManager.default.fileExists(atPath: c.inbox, isDirectory: &isDirectory) || !isDirectory.boolValue
        {
            throw ConfigurationError(option: "inbox", message: "\(c.inbox) does not exist (or is not a directory); create it, or check the path")
        }
        for (key, url) in [("inbox", dirs.inbox), ("archive", dirs.archive), ("quarantine", dirs.quarantine)] {
            // Extracts are patient-identifiable: the archive and quarantine are for the qofd user only (the folder
            // itself; folders above it keep their own permissions).
            let existed = FileManager.default.fileExists(atPath: url.path)
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                if !existed, key != "inbox" { try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: url.path) }
            } catch {
                throw ConfigurationError(option: key, message: "cannot create \(url.path)")
            }
        }
        let nationalDirectory = c.nationalDirectory.map { URL(fileURLWithPath: $0) }
        let figures: [String: NationalFigures]
        var iif: [String: IIFNationalFigures] = [:]
        do {
            figures = try ExtractProcessor.nationalFigures(for: chosen, directory: nationalDirectory)
            for r in chosen where r.kind == .des { iif[r.id] = try IIFNationalFigures.loadIfPresent(year: r.id, directory: nationalDirectory) }
        } catch let error as PaymentError {
            throw ConfigurationError(option: "national_dir", message: error.description)
        }
        // The population step reads the same code lists as the rules, and the site's cohorts; a broken cohort file stops start-up.
        var population: PopulationStep?
        if c.populationSummary {
            do {
                population = try PopulationStep(library: library, referenceDirectory: c.web.referenceDirectory.map { URL(fileURLWithPath: $0) },
                                                cohortsDirectory: c.cohortsDirectory.map { URL(fileURLWithPath: $0) })
            } catch let e as ConfigurationError {
                throw e
            } catch {
                throw ConfigurationError(option: c.cohortsDirectory == nil ? "population_summary" : "cohorts_dir", message: "\(error)")
            }
        }
        return ExtractProcessor(
            directories: dirs, rulesets: chosen, library: library, worker: worker, leaseSeconds: c.leaseSeconds, maxAttempts: c.maxAttempts,
            storePatientOutcomes: c.storePatientOutcomes, reportsDirectory: URL(fileURLWithPath: c.reports),
            nationalDirectory: nationalDirectory, nationalFigures: figures, iifFigures: iif, populationSummary: c.populationSummary,
            population: population, logger: logger)
    }
}

/// Reloads configuration and rule files on SIGHUP without a restart. An invalid reload is refused
/// and logged; the running configuration stays.
public struct ReloadService: Service {
    let state: DaemonState
    let load: @Sendable () throws -> (DaemonConfiguration, ExtractProcessor)
    let logger: Logger

    public init(state: DaemonState, logger: Logger, load: @escaping @Sendable () throws -> (DaemonConfiguration, ExtractProcessor)) {
        self.state = state
        self.load = load
        self.logger = logger
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            do {
                let (configuration, processor) = try load()
                await state.replace(processor, configuration: configuration)
                logger.notice("configuration and rules reloaded", metadata: ["rulesets": "\(configuration.rulesets.joined(separator: ","))"])
            } catch {
                logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Tells systemd `STOPPING=1` as soon as a graceful shutdown begins.
public struct StoppingNotifier: Service {
    let notifier: SystemdNotifier
    public init(notifier: SystemdNotifier) { self.notifier = notifier }
    public func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1\nSTATUS=stopping")
    }
}
