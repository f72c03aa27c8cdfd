import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A daemon started by a process that then dies (a crashed test run, a supervisor script) stops by itself
/// when asked to (`QOFD_EXIT_WITH_PARENT=1`), so nothing is left running.
@Suite("Stopping with the parent")
struct ParentWatchTests {
    @Test("qofd serve started by a shell that exits stops within seconds, cleanly")
    func stopsWithParent() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try ServeProcessTests.setup(conninfo: conninfo)
        let pidFile = s.base.appending(path: "qofd.pid")
        let log = s.base.appending(path: "log")
        // The shell starts the daemon in the background, writes its pid and exits at once: the daemon is orphaned.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "QOFD_EXIT_WITH_PARENT=$$ '\(qofdExecutable().path)' serve --config '\(s.config.path)' >'\(log.path)' 2>&1 </dev/null & echo $! >'\(pidFile.path)'"]
        shell.standardInput = FileHandle.nullDevice
        shell.standardOutput = FileHandle.nullDevice
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        // The shell exits as soon as it has written the pid (not asserted through `shell.isRunning`: Foundation may
        // notice a child's exit late on a loaded machine; the daemon sees it at once, as it is reparented on exit).
        let pid = try #require(await eventually(10) { FileManager.default.fileExists(atPath: pidFile.path) } ? pid_t(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) : nil)
        TestProcesses.register(pid)
        let stopped = await eventually(20) { kill(pid, 0) != 0 }
        #expect(stopped, "the orphaned daemon stopped: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        #expect(((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("the process that started qofd has gone"))
    }
}
