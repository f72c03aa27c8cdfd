import Foundation
import Metrics

/// What the daemon is doing, shared by the poller, the HTTP surface and the watchdog: the current
/// pipeline (replaced on reload), readiness, and the last successful poll.
public actor DaemonState {
    public private(set) var processor: ExtractProcessor
    public private(set) var configuration: DaemonConfiguration
    public private(set) var databaseReachable = false
    public private(set) var lastSuccessfulPoll: Date?
    public private(set) var lastTick = Date()
    public private(set) var status = "starting"
    /// Recompute and purge at start, after a reload, and daily at `recompute_at`.
    private var maintenanceDue = true
    private var nextMaintenance: Date?

    let processed = Counter(label: "qofd_extracts_processed_total")
    let rejected = Counter(label: "qofd_extracts_rejected_total")
    let duplicates = Counter(label: "qofd_extracts_duplicate_total")
    let patients = Counter(label: "qofd_patients_evaluated_total")
    let databaseErrors = Counter(label: "qofd_database_errors_total")
    let pollDuration = Timer(label: "qofd_poll_duration_seconds")
    let lastSuccess = Gauge(label: "qofd_last_success_timestamp_seconds")
    let reloads = Counter(label: "qofd_reloads_total")
    let failures = Counter(label: "qofd_extract_failures_total")
    let backlog = Gauge(label: "qofd_inbox_backlog")
    let oldest = Gauge(label: "qofd_inbox_oldest_unprocessed_seconds")
    let maintained = Gauge(label: "qofd_maintenance_last_finished_timestamp_seconds")

    public init(processor: ExtractProcessor, configuration: DaemonConfiguration) {
        self.processor = processor
        self.configuration = configuration
    }

    /// Ready: the database answered on the last attempt.
    public var isReady: Bool { databaseReachable }

    func tick() { lastTick = Date() }

    func databaseAnswered() { databaseReachable = true }

    /// The start-up or nightly maintenance (recompute, retention, report check) has finished.
    func maintenanceFinished() { maintained.record(Date().timeIntervalSince1970) }

    func pollSucceeded(_ s: PipelineRunner.Summary, seconds: Double) {
        databaseReachable = true
        lastSuccessfulPoll = Date()
        lastTick = Date()
        processed.increment(by: s.processed)
        rejected.increment(by: s.rejected)
        duplicates.increment(by: s.duplicates)
        patients.increment(by: s.patients)
        failures.increment(by: s.failed)
        pollDuration.recordNanoseconds(Int64(seconds * 1e9))
        lastSuccess.record(Date().timeIntervalSince1970)
        status = s.processed + s.rejected > 0
            ? "last poll \(Self.time()): \(s.processed) processed, \(s.rejected) rejected"
            : "idle since \(Self.time())"
    }

    /// The inbox after a poll: complete extracts still waiting, and the age of the oldest.
    func inbox(count: Int, oldestSeconds: Double) {
        backlog.record(count)
        oldest.record(oldestSeconds)
    }

    func pollFailed(databaseDown: Bool, message: String) {
        if databaseDown { databaseReachable = false; databaseErrors.increment() }
        lastTick = Date()
        status = databaseDown ? "database unreachable, retrying" : "last poll failed: \(message)"
    }

    func replace(_ processor: ExtractProcessor, configuration: DaemonConfiguration) {
        self.processor = processor
        self.configuration = configuration
        maintenanceDue = true
        reloads.increment()
    }

    /// True (once) when maintenance should run now.
    func takeMaintenance(now: Date = Date()) -> Bool {
        let due = maintenanceDue || nextMaintenance.map { now >= $0 } ?? false
        guard due else { return false }
        maintenanceDue = false
        nextMaintenance = Self.next(configuration.recomputeAt, after: now)
        return true
    }

    /// The next time of day `hh:mm` in Europe/London after `now`.
    static func next(_ time: String?, after now: Date) -> Date? {
        guard let time, let (h, m) = DaemonConfiguration.parseTime(time) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London")!
        return calendar.nextDate(after: now, matching: DateComponents(hour: h, minute: m), matchingPolicy: .nextTime)
    }

    static func time() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "Europe/London")
        return f.string(from: Date())
    }
}
