import Clinical
import Foundation
import Logging
import Postgres
import Storage
import ServiceLifecycle

/// Scans the inbox every interval and runs the pipeline over what it finds. On graceful shutdown it
/// stops taking new extracts and lets the one in hand finish (its transaction commits or rolls
/// back); a database outage is logged, reported as not ready, and retried with backoff — never a crash.
public struct PollerService: Service {
    let state: DaemonState
    let conninfo: String
    let notifier: SystemdNotifier
    let logger: Logger
    /// For qofd's own embedded cluster: starts its PostgreSQL again when it has died (true when it did).
    let restartDatabase: (@Sendable () async -> Bool)?

    public init(state: DaemonState, conninfo: String, notifier: SystemdNotifier, logger: Logger,
                restartDatabase: (@Sendable () async -> Bool)? = nil) {
        self.state = state
        self.conninfo = conninfo
        self.notifier = notifier
        self.logger = logger
        self.restartDatabase = restartDatabase
    }

    public func run() async throws {
        var failures = 0
        var health: PostgresConnection?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let processor = await state.processor
            let configuration = await state.configuration
            let started = ContinuousClock.now
            do {
                // Readiness: the database must answer every poll, even when the inbox is empty.
                if health == nil { health = try await PostgresConnection.connect(conninfo, logger: logger) }
                do { try await DatabaseHealth.ping(health!) } catch {
                    await health?.close()
                    health = nil
                    throw error
                }
                // Ready as soon as the database answers, not only once a long poll has finished.
                if failures > 0, await !state.isReady {
                    logger.notice("database reachable again", metadata: ["after": "\(failures) failed attempt(s)"])
                }
                await state.databaseAnswered()
                let summary = try await PipelineRunner.runOnce(
                    processor, conninfo: conninfo, workers: configuration.workers, logger: logger,
                    shouldStop: { Task.isShuttingDownGracefully }, progress: { await state.tick() })
                await state.pollSucceeded(summary, seconds: (ContinuousClock.now - started) / .seconds(1))
                let backlog = processor.backlog()
                await state.inbox(count: backlog.count, oldestSeconds: backlog.oldestSeconds)
                failures = 0
                if await state.takeMaintenance(), let conn = health {
                    let maintenance = Maintenance(processor: processor, logger: logger)
                    let added = try await maintenance.recomputeLatest(using: conn)
                    let today = Day(iso: Self.londonToday()) ?? Day(year: 2026, month: 1, day: 1)!
                    try await maintenance.purgePatientOutcomes(keepingYears: configuration.patientOutcomeYears, today: today, using: conn)
                    if added > 0 { logger.notice("maintenance recomputed runs", metadata: ["runs": "\(added)"]) }
                    await maintenance.repairReports(using: conn)
                    await state.maintenanceFinished()
                }
            } catch let error as PostgresError where error.isConnectionLoss {
                failures += 1
                logger.error("database unreachable; will retry", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                await state.pollFailed(databaseDown: true, message: "\(error)")
                // qofd's own cluster is qofd's to restart: a PostgreSQL that died is started again, not waited for.
                if failures >= 2, let restart = restartDatabase, await restart() {
                    logger.notice("restarted the embedded PostgreSQL cluster, which had stopped")
                }
            } catch {
                failures += 1
                logger.error("poll failed", metadata: ["error": "\(error)"])
                await state.pollFailed(databaseDown: false, message: "\(error)")
            }
            notifier.notify("STATUS=\(await state.status)")
            // Wait for the next poll (longer after failures), waking early for shutdown.
            let wait = failures == 0 ? configuration.pollInterval : min(300, configuration.pollInterval * Double(1 << min(failures, 5)))
            let deadline = ContinuousClock.now + .milliseconds(Int(wait * 1000))
            while ContinuousClock.now < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                await state.tick()
            }
        }
        await health?.close()
        logger.info("poller stopped")
    }

    /// Today's calendar date in England.
    static func londonToday() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Europe/London")
        return f.string(from: Date())
    }
}

/// Pings the systemd watchdog at half its interval, but only while the poller is alive.
public struct WatchdogService: Service {
    let state: DaemonState
    let notifier: SystemdNotifier

    public init(state: DaemonState, notifier: SystemdNotifier) {
        self.state = state
        self.notifier = notifier
    }

    public func run() async throws {
        guard let interval = notifier.watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let lastTick = await state.lastTick
            let configuration = await state.configuration
            // A poll may take a while; allow the lease time before declaring the loop stuck.
            if Date().timeIntervalSince(lastTick) < configuration.pollInterval + Double(configuration.leaseSeconds) {
                notifier.notify("WATCHDOG=1")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
