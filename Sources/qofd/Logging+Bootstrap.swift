import Foundation
import Logging

/// Sets up logging once per process: one line per event on stderr (journald keeps them).
func bootstrapLogging(level: Logger.Level) {
    LoggingBootstrap.once(level: level)
}

private enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    static func once(level: Logger.Level) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
