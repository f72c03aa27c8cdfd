import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `qofd` executable next to the test bundle.
public func qofdExecutable() -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appending(path: "qofd")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: ".build/debug/qofd")
}

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`, collecting every message.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []

    public init() {
        path = TestFolders.make("notify").path
        let socketFD = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        fd = socketFD
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let socketPath = path
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let fd = socketFD
        Thread.detachNewThread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return }
                guard let self else { return }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                self.lock.withLock { self.received.append(text) }
            }
        }
    }

    public var messages: [String] { lock.withLock { received } }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// `qofd serve` as a child process, with its own configuration file and environment.
public final class DaemonProcess: @unchecked Sendable {
    public let pid: pid_t
    public let log: URL
    public let port: Int

    public init(config: URL, environment: [String: String], notify: NotifySocket?, port: Int, log: URL) throws {
        self.log = log
        self.port = port
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        if let notify { env["NOTIFY_SOCKET"] = notify.path }
        env["WATCHDOG_USEC"] = "2000000"
        env["QOFD_EXIT_WITH_PARENT"] = String(getpid())  // a test process that crashes takes its daemons with it
        FileManager.default.createFile(atPath: log.path, contents: nil)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let program = qofdExecutable().path
        let configPath: String = config.path
        let words: [String] = [program, "serve", "--config", configPath]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard r == 0 else { throw CocoaError(.executableLoad) }
        self.pid = pid
        TestProcesses.register(pid)
    }

    public var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    public func signal(_ s: Int32) { kill(pid, s) }

    /// Waits for exit (polling, so a hung daemon fails the test instead of hanging it).
    public func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(50_000)
        }
        return nil
    }

    /// GET http://127.0.0.1:port/path with curl; returns (status, body).
    public func get(_ path: String) -> (Int, String) {
        let r = curl(["-m", "5", "http://127.0.0.1:\(port)\(path)"])
        return (r.status, r.body)
    }
}

/// Runs curl (silent) with `arguments`; returns the HTTP status and the body.
public func curl(_ arguments: [String]) -> (status: Int, body: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    p.arguments = ["-s", "-w", "\n%{http_code}"] + arguments
    let pipe = Pipe()
    p.standardOutput = pipe
    try? p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard let cut = text.lastIndex(of: "\n") else { return (0, text) }
    return (Int(text[text.index(after: cut)...]) ?? 0, String(text[..<cut]))
}

/// Polls `condition` until it holds or `seconds` pass.
public func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}

/// A TCP port on 127.0.0.1 that nothing is listening on right now.
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
