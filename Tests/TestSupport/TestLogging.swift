import InMemoryLogging
import Logging

/// A logger whose entries a test can read back.
public struct CapturedLog: Sendable {
    public let handler = InMemoryLogHandler()
    public init() {}

    public var logger: Logger {
        let handler = self.handler
        var logger = Logger(label: "qofd.test") { _ in handler }
        logger.logLevel = .trace
        return logger
    }

    public var messages: [String] { handler.entries.map { "\($0.message)" } }
}
