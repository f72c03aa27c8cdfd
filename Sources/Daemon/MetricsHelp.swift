import CoreMetrics
import Foundation
import Prometheus

/// The daemon's metrics, each with its HELP text, served by the Prometheus registry: a factory for
/// swift-metrics that names every metric's meaning (the plain Prometheus factory writes none), and the
/// `qofd_build_info` gauge that says which build answers.
public struct HelpfulMetricsFactory: CoreMetrics.MetricsFactory {
    static let help: [String: String] = [
        "qofd_extracts_processed_total": "Extracts checked, evaluated and stored.",
        "qofd_extracts_rejected_total": "Extracts rejected and quarantined (bad files, or given up on after repeated failures).",
        "qofd_extracts_duplicate_total": "Extracts delivered again and archived as duplicates.",
        "qofd_extract_failures_total": "Attempts at an extract that failed and will be retried (or given up on at max_attempts).",
        "qofd_patients_evaluated_total": "Patients evaluated across all stored extracts.",
        "qofd_database_errors_total": "Polls that found the database unreachable.",
        "qofd_poll_duration_seconds": "Time taken by each poll of the inbox.",
        "qofd_last_success_timestamp_seconds": "Unix time of the last successful poll.",
        "qofd_reloads_total": "Configuration and rule reloads (SIGHUP) accepted.",
        "qofd_inbox_backlog": "Complete extracts waiting in the inbox after the last poll.",
        "qofd_inbox_oldest_unprocessed_seconds": "Age of the oldest extract waiting in the inbox (by its manifest's time).",
        "qofd_rows_dropped_total": "Rows left out of accepted extracts (see errors.txt beside each archived extract).",
        "qofd_indicators_incomplete": "Indicators of a ruleset resting on missing code lists (import the PCD refset release).",
        "qofd_indicators_not_computable": "Indicators of a ruleset that cannot be computed at all with the code lists in use.",
        "qofd_build_info": "The qofd build answering (always 1), with its version.",
        "qofd_maintenance_last_finished_timestamp_seconds": "Unix time the last start-up or nightly maintenance (recompute, retention, report check) finished.",
    ]

    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    static func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "A qofd metric (see deploy/OPERATIONS.md).")
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.descriptor(label), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(label), labels: dimensions,
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300)])
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let c = handler as? Prometheus.Counter { registry.unregisterCounter(c) }
    }
    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }
    public func destroyMeter(_ handler: any MeterHandler) {
        if let g = handler as? Prometheus.Gauge { registry.unregisterGauge(g) }
    }
    public func destroyTimer(_ handler: any TimerHandler) {
        if let h = handler as? Prometheus.DurationHistogram { registry.unregisterDurationHistogram(h) }
    }

    /// `qofd_build_info{version="…"} 1`.
    public static func recordBuildInfo(version: String) {
        Gauge(label: "qofd_build_info", dimensions: [("version", version)]).record(1)
    }
}
