import Foundation
import Logging
import Synchronization

/// Sets up logging once per process: one line per event on stderr (journald keeps them).
func bootstrapLogging(level: Logger.Level) {
    LoggingBootstrap.once(level: level)
}

private enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(level: Logger.Level) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        // Under systemd (stderr connected to the journal), each line starts with its syslog priority `<N>`, so
        // journald files errors as errors (`journalctl -p err -u qofd`).
        let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return journal ? JournalPriorityLogHandler(inner: handler, label: label) : handler as any LogHandler
        }
    }
}

/// Prefixes each line with its syslog priority for journald (`<3>` error … `<7>` debug) and keeps it on one line.
struct JournalPriorityLogHandler: LogHandler {
    var inner: StreamLogHandler
    let label: String
    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    func log(event: LogEvent) {
        guard event.level >= inner.logLevel else { return }
        // journald reads `<N>` only at the very start of a line, and keeps its own timestamps.
        var merged = inner.metadata
        if let m = event.metadata { merged.merge(m) { _, new in new } }
        let meta = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "<\(Self.priority(event.level))>\(label): \(event.message)\(meta.isEmpty ? "" : " [\(meta)]")"
            .replacingOccurrences(of: "\n", with: " / ") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
