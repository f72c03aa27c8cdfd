import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Stops the daemon when the process that started it goes away, for a daemon run as a child of a test or a
/// supervisor script (`QOFD_EXIT_WITH_PARENT=<that process's pid>`): a test run that crashes must not leave
/// daemons behind. The pid is given, not read at start, because a starting script may already have gone by
/// then. systemd does not need it (it stops its own services).
public struct ParentWatch: Service {
    let logger: Logger
    let parent: pid_t

    public init(parent: pid_t, logger: Logger) {
        self.logger = logger
        self.parent = parent
    }

    /// The process to stop with, when the environment names one.
    public static func parent(_ environment: [String: String]) -> pid_t? {
        environment["QOFD_EXIT_WITH_PARENT"].flatMap { pid_t($0) }.flatMap { $0 > 1 ? $0 : nil }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if getppid() != parent {
                logger.notice("the process that started qofd has gone; stopping")
                kill(getpid(), SIGTERM)  // the service group's graceful shutdown, as systemd's stop would
                return
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
