import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Every temporary folder a test makes lives under one root per test process (`/tmp/qofd-tests-<pid>`),
/// removed when the process exits; roots left by a test process that crashed are removed by the next run.
/// Every daemon a test starts is killed at exit too, so nothing outlives `swift test`.
public enum TestFolders {
    private static let root: URL = {
        removeStaleRoots()
        let url = URL(fileURLWithPath: "/tmp/qofd-tests-\(getpid())")
        // Traversable by others: a PostgreSQL server running as `postgres` reaches clusters made below it.
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        atexit {
            TestProcesses.killAll()
            try? FileManager.default.removeItem(atPath: "/tmp/qofd-tests-\(getpid())")
        }
        return url
    }()

    /// A new folder path (not created) under the run's root, named for people reading a failure.
    public static func make(_ prefix: String) -> URL {
        root.appending(path: "\(prefix)-\(UUID().uuidString.prefix(8))")
    }

    private static func removeStaleRoots() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for entry in entries where entry.hasPrefix("qofd-tests-") {
            guard let pid = Int32(entry.dropFirst("qofd-tests-".count)), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            try? FileManager.default.removeItem(atPath: "/tmp/\(entry)")
        }
    }
}

/// Child processes to kill when the test process exits (a daemon a failed test left running).
public enum TestProcesses {
    nonisolated(unsafe) private static var pids: Set<pid_t> = []
    private static let lock = NSLock()

    public static func register(_ pid: pid_t) { lock.withLock { _ = pids.insert(pid) } }

    public static func killAll() {
        let all = lock.withLock { pids }
        for pid in all where kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
