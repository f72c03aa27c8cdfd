import Clusters
import Foundation
import Postgres
import PostgresCluster
import Synth
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `qofd serve` as a real process: notify messages on a datagram socket, extracts dropped into its
/// inbox, results read from PostgreSQL, real signals.
@Suite("The daemon as a process", .serialized)
struct ServeProcessTests {
    struct Setup {
        let base: URL
        let config: URL
        let inbox: URL
        let port: Int
    }

    static func setup(conninfo: String, pollInterval: Int = 1, lease: Int = 10, extra: String = "") throws -> Setup {
        let base = TestFolders.make("serve")
        try FileManager.default.createDirectory(at: base.appending(path: "inbox"), withIntermediateDirectories: true)
        let port = freePort()
        let config = base.appending(path: "qofd.yaml")
        let text = """
            database_url: "\(conninfo)"
            state_dir: \(base.path)/state
            inbox: \(base.path)/inbox
            archive: \(base.path)/archive
            quarantine: \(base.path)/quarantine
            poll_interval: \(pollInterval)
            lease_seconds: \(lease)
            listen: 127.0.0.1:\(port)
            workers: 2
            \(extra)
            """
        try Data(text.utf8).write(to: config)
        return Setup(base: base, config: config, inbox: base.appending(path: "inbox"), port: port)
    }

    static func drop(_ practices: Int, patients: Int, seed: UInt64, into inbox: URL) throws {
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = practices
        o.patients = patients
        // Written beside the inbox, then renamed in: the daemon never sees half an extract.
        let staging = inbox.deletingLastPathComponent().appending(path: "staging-\(seed)")
        let written = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: staging)
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        for w in written { try FileManager.default.moveItem(at: w.directory, to: inbox.appending(path: w.directory.lastPathComponent)) }
    }

    /// A count, or -1 while the database or the table is not there yet.
    static func count(_ conninfo: String, _ sql: String) async throws -> Int {
        guard let conn = try? await PostgresConnection.connect(conninfo) else { return -1 }
        defer { Task { await conn.close() } }
        return (try? await conn.query(PostgresQuery(sql))[0].decode(0, as: Int.self)) ?? -1
    }

    @Test("serve: READY over notify, extracts stored, health and Prometheus metrics, SIGHUP good and bad, SIGTERM clean")
    func lifecycle() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try Self.setup(conninfo: conninfo)
        let notify = NotifySocket()
        let daemon = try DaemonProcess(config: s.config, environment: [:], notify: notify, port: s.port, log: s.base.appending(path: "log"))
        #expect(await eventually(30) { notify.messages.contains { $0.contains("READY=1") } }, "no READY=1: \(daemon.logText)")
        #expect(daemon.get("/healthz").0 == 200)

        try Self.drop(3, patients: 1_500, seed: 11, into: s.inbox)
        #expect(try await eventually(60) { try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'") == 3 })
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM computation_run") == 3)
        #expect(await eventually(10) { daemon.get("/readyz").0 == 200 })
        // Reports are written, and served only behind sign-in (see ReportAccessTests): anonymous requests go to the sign-in page.
        #expect(daemon.get("/reports").0 == 303)
        #expect(daemon.get("/reports/..%2F..%2Fetc/passwd").0 != 200)
        #expect(await eventually(10) { notify.messages.contains { $0.hasPrefix("WATCHDOG=1") } })
        #expect(notify.messages.contains { $0.contains("STATUS=") })

        // /metrics parsed by the Prometheus client library's own parser. An extract is counted once its reports are
        // written, a moment after its runs are committed: wait for the count.
        _ = await eventually(30) { ((try? Self.parsePrometheus(daemon.get("/metrics").1))?["qofd_extracts_processed_total"] ?? 0) == 3 }
        let (status, metrics) = daemon.get("/metrics")
        #expect(status == 200)
        let parsed = try Self.parsePrometheus(metrics)
        #expect(parsed["qofd_extracts_processed_total"] == 3)
        #expect(parsed["qofd_database_errors_total"] == 0)
        #expect((parsed["qofd_patients_evaluated_total"] ?? 0) > 1_000)
        // Every metric family says what it means; the build answering, the inbox and the code lists are measured.
        let families = parsed.filter { $0.key.hasPrefix("help:qofd_") }
        #expect(!families.isEmpty && families.allSatisfy { $0.value == 1 }, "\(families.filter { $0.value != 1 })")
        #expect(parsed["qofd_build_info{version=0.1.0}"] == 1)
        #expect(parsed["qofd_inbox_backlog"] == 0)
        #expect((parsed["qofd_indicators_not_computable{ruleset=qof-2025-26}"] ?? 0) > 0)

        // A bad configuration on SIGHUP is refused; the daemon keeps running.
        let good = try Data(contentsOf: s.config)
        try Data((String(decoding: good, as: UTF8.self) + "\npoll_interval: -5\n").utf8).write(to: s.config)
        daemon.signal(SIGHUP)
        #expect(await eventually(10) { daemon.logText.contains("reload refused") })
        #expect(daemon.get("/healthz").0 == 200)
        try good.write(to: s.config)
        daemon.signal(SIGHUP)
        #expect(await eventually(10) { daemon.logText.contains("configuration and rules reloaded") })

        // No patient identifier in the logs.
        #expect(!daemon.logText.contains("Y1") || !daemon.logText.contains("-28,"))
        #expect(daemon.logText.range(of: #"999[0-9]{7}"#, options: .regularExpression) == nil)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 30) == 0, "log: \(daemon.logText)")
        #expect(notify.messages.contains { $0.contains("STOPPING=1") })
    }

    @Test("a listen address already in use stops the daemon at once, naming the option, and it never says READY")
    func portInUse() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try Self.setup(conninfo: conninfo)
        // Hold the port with a plain listening socket.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(s.port).bigEndian)
        let bound = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        let notify = NotifySocket()
        let daemon = try DaemonProcess(config: s.config, environment: [:], notify: notify, port: s.port, log: s.base.appending(path: "log"))
        let status = daemon.waitForExit(seconds: 30)
        #expect(status == 1, "\(daemon.logText.suffix(1000))")
        #expect(daemon.logText.contains("configuration option 'listen'") && daemon.logText.contains("already in use"))
        #expect(!notify.messages.contains { $0.contains("READY=1") })
    }

    @Test("SIGKILL mid-run, then restart: every extract is completed exactly once")
    func killAndRestart() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try Self.setup(conninfo: conninfo, lease: 10)
        try Self.drop(6, patients: 12_000, seed: 12, into: s.inbox)
        let first = try DaemonProcess(config: s.config, environment: [:], notify: nil, port: s.port, log: s.base.appending(path: "log1"))
        // Kill it as soon as it has claimed work, before it can finish everything.
        #expect(try await eventually(60) { try await Self.count(conninfo, "SELECT count(*) FROM extract") > 0 })
        first.signal(SIGKILL)
        _ = first.waitForExit(seconds: 10)
        let done = try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'")
        #expect(done < 6, "the kill came too late to test anything")

        let second = try DaemonProcess(config: s.config, environment: [:], notify: nil, port: s.port, log: s.base.appending(path: "log2"))
        #expect(try await eventually(90) { try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'") == 6 },
                "log: \(second.logText)")
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM computation_run") == 6)
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM (SELECT extract_id FROM computation_run GROUP BY extract_id HAVING count(*) > 1) d") == 0)
        second.signal(SIGTERM)
        #expect(second.waitForExit(seconds: 30) == 0)
    }

    @Test("three daemons, 30 extracts: one killed mid-run, every extract processed exactly once")
    func threeWorkers() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try Self.setup(conninfo: conninfo, lease: 10)
        try Self.drop(30, patients: 9_000, seed: 14, into: s.inbox)
        let ports = (0..<3).map { _ in freePort() }
        let daemons = try (0..<3).map { i in
            try DaemonProcess(config: s.config, environment: ["QOFD_WORKERS": "1", "QOFD_LISTEN": "127.0.0.1:\(ports[i])"], notify: nil, port: ports[i],
                              log: s.base.appending(path: "log\(i)"))
        }
        #expect(try await eventually(60) { try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'") >= 3 })
        daemons[0].signal(SIGKILL)
        _ = daemons[0].waitForExit(seconds: 10)
        #expect(try await eventually(120) { try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'") == 30 },
                "\(daemons[1].logText)")
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM computation_run") == 30)
        #expect(try await Self.count(conninfo, "SELECT count(DISTINCT worker) FROM computation_run") >= 2)
        for d in daemons.dropFirst() {
            d.signal(SIGTERM)
            #expect(d.waitForExit(seconds: 30) == 0)
        }
    }

    @Test("SIGTERM mid-run: clean exit 0, and the database holds only whole runs")
    func terminateMidRun() async throws {
        let conninfo = try await TestDatabase.fresh()
        let s = try Self.setup(conninfo: conninfo)
        // Enough work that a SIGTERM sent as soon as the first extract is claimed arrives while most are still waiting.
        let extracts = 24
        try Self.drop(extracts, patients: 72_000, seed: 15, into: s.inbox)
        let daemon = try DaemonProcess(config: s.config, environment: [:], notify: nil, port: s.port, log: s.base.appending(path: "log"))
        #expect(try await eventually(60) { try await Self.count(conninfo, "SELECT count(*) FROM extract") > 0 })
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 30) == 0, "\(daemon.logText)")
        // Every processed extract has its run with results; nothing claimed is left half-written.
        let processed = try await Self.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'")
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM computation_run") == processed)
        #expect(try await Self.count(conninfo, "SELECT count(*) FROM computation_run r WHERE NOT EXISTS (SELECT 1 FROM indicator_result i WHERE i.run_id = r.id)") == 0)
        #expect(processed < extracts, "SIGTERM came after all the work was done")
        let leftInInbox = try FileManager.default.contentsOfDirectory(atPath: s.inbox.path).count
        #expect(leftInInbox == extracts - processed)
    }

    @Test("the database stopped and restarted under the daemon: not ready, then it recovers by itself")
    func databaseOutage() async throws {
        let dir = URL(fileURLWithPath: "/tmp/qofd-test-\(getpid())-outage")
        let cluster = try PrivateCluster(directory: dir, settings: ["fsync": "off"])
        ClusterRegistry.register(cluster)
        defer { try? cluster.destroy() }
        try cluster.start()
        try await cluster.createDatabaseIfMissing()
        let s = try Self.setup(conninfo: cluster.conninfo())
        let daemon = try DaemonProcess(config: s.config, environment: [:], notify: nil, port: s.port, log: s.base.appending(path: "log"))
        #expect(await eventually(30) { daemon.get("/readyz").0 == 200 })

        try cluster.stop()
        #expect(await eventually(20) { daemon.get("/readyz").0 == 503 }, "log: \(daemon.logText)")
        try Self.drop(1, patients: 800, seed: 13, into: s.inbox)
        try await Task.sleep(for: .seconds(2))
        #expect(daemon.get("/healthz").0 == 200)  // alive throughout

        try cluster.start()
        #expect(try await eventually(90) {
            (try? await Self.count(cluster.conninfo(), "SELECT count(*) FROM extract WHERE status = 'processed'")) == 1
        }, "log: \(daemon.logText)")
        #expect(daemon.get("/readyz").0 == 200)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit(seconds: 30) == 0)
    }

    /// Parses Prometheus text with the `prometheus_client` parser (installed by `.ci/run`).
    static func parsePrometheus(_ text: String) throws -> [String: Double] {
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                print(f"help:{family.name} {1 if family.documentation else 0}")
                for sample in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    print(f"{sample.name}{{{labels}}} {sample.value}" if labels else f"{sample.name} {sample.value}")
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.coderReadCorrupt) }
        var out: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { out[String(parts[0])] = Double(parts[1]) }
        }
        return out
    }
}
