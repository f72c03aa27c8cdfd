import ArgumentParser
import Daemon
import Foundation
import Logging
import Metrics
import Postgres
import PostgresCluster
import Prometheus
import ServiceLifecycle
import Storage
import Web

/// `qofd serve`: the long-running daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: poll the inbox, compute, store in PostgreSQL; HTTP health and metrics on loopback.",
        discussion: """
            Configuration comes from --config (YAML; see deploy/qofd.yaml) and QOFD_<OPTION> environment \
            variables. SIGTERM/SIGINT stop gracefully; SIGHUP reloads the configuration and rule files.
            """)

    @Option(help: ArgumentHelp("Configuration file (YAML). Default: $QOFD_CONFIG.", valueName: "file"))
    var config: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let file = config ?? env["QOFD_CONFIG"]
        let defaultState = DatabaseLocation.defaultStateDirectory().path
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.load(file: file, environment: env, defaultStateDirectory: defaultState)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("qofd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        bootstrapLogging(level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let logger = Logger(label: "qofd")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(HelpfulMetricsFactory(registry: registry))
        HelpfulMetricsFactory.recordBuildInfo(version: Qofd.configuration.version)
        let notifier = SystemdNotifier()
        notifier.notify("STATUS=starting: database and migrations")

        // The state directory first, traversable by others (no listing): the embedded server runs as `postgres`
        // and must reach its subdirectory; folders made inside it later keep qofd's own umask.
        try? FileManager.default.createDirectory(
            atPath: configuration.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let worker = "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let processor: ExtractProcessor
        do { processor = try ExtractProcessor.make(configuration, worker: worker, logger: Logger(label: "qofd.pipeline")) } catch {
            FileHandle.standardError.write(Data("qofd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if configuration.databaseURL == nil {
            // One daemon per embedded cluster: the one that started PostgreSQL stops it, so a second daemon on the
            // same state directory would lose its database under it. Refused at start, naming the first.
            // Traversable by others (no listing), so the server running as `postgres` reaches its subdirectory.
            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            if let holder = StateDirectoryLock.acquire(configuration.stateDirectory) {
                FileHandle.standardError.write(Data(
                    "qofd: another qofd serve (pid \(holder)) uses the embedded database in \(configuration.stateDirectory); stop it first, or configure database_url to share one PostgreSQL between daemons\n".utf8))
                throw ExitCode(2)
            }
        }
        let location: DatabaseLocation = configuration.databaseURL.map { .url($0) }
            ?? .embedded(stateDirectory: URL(fileURLWithPath: configuration.stateDirectory))
        let (base, cluster) = try await location.open(logger: logger)
        defer { if let cluster { try? cluster.stop() } }
        var conninfo = try configuration.conninfo(embedded: base)
        // First contact: keep trying while the database is down, then migrate.
        let connection = try await PostgresConnection.connect(
            conninfo, logger: Logger(label: "qofd.postgres"), retry: Backoff(initial: 0.5, maximum: 30))
        try await Migrator().migrate(on: connection)
        if configuration.databaseURL == nil {
            // The embedded cluster has the same owner / daemon / reader split as a real deployment: the owner
            // migrates, the daemon works as qofd_daemon (no superuser: triggers and the audit log hold).
            try await Migrator().ensureRoles(on: connection)
            conninfo = base + " user=qofd_daemon"
        }
        await connection.close()

        let state = DaemonState(processor: processor, configuration: configuration)
        processor.announceCompleteness()
        guard let address = configuration.listenAddress else { throw ExitCode(2) }
        let web = try await WebApp(conninfo: conninfo, logger: Logger(label: "qofd.web")) {
            let (p, c) = (await state.processor, await state.configuration)
            return WebInputs(
                rulesets: p.rulesets, library: p.library, archive: p.directories.archive, settings: c.web, nationalFigures: p.nationalFigures,
                reports: p.reportsDirectory, population: p.population?.stratifier)
        }
        let inbox = configuration.inbox, interval = Int(configuration.pollInterval)
        // READY=1 once the HTTP surface listens (a port in use stops the daemon instead, exit 1).
        let http = HTTPSurface.application(
            state: state, registry: registry, host: address.host, port: address.port, logger: Logger(label: "qofd.http"), web: web
        ) {
            notifier.notify("READY=1\nSTATUS=ready: polling \(inbox) every \(interval) s")
        }
        var restart: (@Sendable () async -> Bool)?
        if configuration.databaseURL == nil {
            let own = try PrivateCluster(directory: URL(fileURLWithPath: configuration.stateDirectory).appending(path: "postgres"),
                                         settings: ["jit": "off"], logger: logger)
            restart = { own.isRunning() ? false : ((try? own.start()) ?? false) }
        }
        let poller = PollerService(state: state, conninfo: conninfo, notifier: notifier, logger: Logger(label: "qofd.poller"),
                                   restartDatabase: restart)
        let reload = ReloadService(state: state, logger: logger) {
            let c = try DaemonConfiguration.load(file: file, environment: ProcessInfo.processInfo.environment, defaultStateDirectory: defaultState)
            let p = try ExtractProcessor.make(c, worker: worker, logger: Logger(label: "qofd.pipeline"))
            p.announceCompleteness()
            return (c, p)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: StoppingNotifier(notifier: notifier)),
            .init(service: http),
            .init(service: WatchdogService(state: state, notifier: notifier)),
            .init(service: reload),
            .init(service: poller, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let parent = ParentWatch.parent(env) { services.append(.init(service: ParentWatch(parent: parent, logger: logger))) }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger))
        logger.info("qofd serving", metadata: ["inbox": "\(configuration.inbox)", "listen": "\(configuration.listen)", "worker": "\(worker)"])
        do {
            try await group.run()
        } catch where HTTPSurface.isAddressInUse(error) {
            FileHandle.standardError.write(Data("qofd: configuration option 'listen': \(configuration.listen) is already in use\n".utf8))
            throw ExitCode(1)
        }
        logger.info("qofd stopped")
    }
}
