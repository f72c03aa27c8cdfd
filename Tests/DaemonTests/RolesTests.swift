import Clusters
import Foundation
import Postgres
import Storage
import Web
import Synth
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The documented roles run the whole product: the owner migrates, `qofd serve` works as the daemon role
/// (pipeline, reports, web view, declaration workflow's automatic steps), a reader reads results but never a
/// password hash, and no role can rewrite the audit log or write a row in another role's name.
@Suite("Least-privilege roles", .serialized)
struct RolesTests {
    @Test("migrate as owner, serve as the daemon role, read as the reader; the audit log records who wrote each row")
    func documentedRolesRunTheProduct() async throws {
        let conninfo = try await TestDatabase.fresh(migrated: true, label: "roles")
        let owner = try await PostgresConnection.connect(conninfo)
        defer { Task { await owner.close() } }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let (daemonRole, readerRole) = ("qofd_daemon_\(suffix)", "qofd_reader_\(suffix)")
        let roles = try String(contentsOf: SystemdUnitTests.repository.appending(path: "deploy/roles.sql"), encoding: .utf8)
            .replacingOccurrences(of: "qofd_daemon", with: daemonRole).replacingOccurrences(of: "qofd_reader", with: readerRole)
        try await owner.executeScript(roles)
        let asDaemon = conninfo.replacingOccurrences(of: "user=qofd", with: "user=\(daemonRole)")
        let asReader = conninfo.replacingOccurrences(of: "user=qofd", with: "user=\(readerRole)")
        #expect(asDaemon != conninfo)

        // serve as the daemon role: extracts processed, reports written, ready.
        let s = try ServeProcessTests.setup(conninfo: asDaemon)
        let daemon = try DaemonProcess(config: s.config, environment: [:], notify: nil, port: s.port, log: s.base.appending(path: "log"))
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.waitForExit(seconds: 20)
        }
        try ServeProcessTests.drop(2, patients: 600, seed: 91, into: s.inbox)
        #expect(try await eventually(90) { try await ServeProcessTests.count(conninfo, "SELECT count(*) FROM extract WHERE status = 'processed'") == 2 },
                "\(daemon.logText.suffix(3000))")
        #expect(daemon.get("/readyz").0 == 200)
        let reports = s.base.appending(path: "state/reports")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: reports.path).count) == 2)
        #expect(!daemon.logText.contains("42501"), "no permission error anywhere: \(daemon.logText.suffix(2000))")

        // The web view, served by the daemon role: sign in, open a practice's dashboard and a worklist.
        let ods = try await owner.query("SELECT practice_ods FROM extract LIMIT 1")[0].decode(0, as: String.self)
        try await owner.withTransaction { c in
            try WebAccounts.save(.init(username: "lead", role: .commissioner, scope: nil, patientAccess: true,
                                       passwordHash: WebApp.hashPassword("correct horse battery", cost: 4)), in: c)
        }
        let jar = s.base.appending(path: "jar").path
        let login = curl(["-m", "30", "-c", jar, "http://127.0.0.1:\(s.port)/login"])
        let csrf = try #require(login.body.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression)
            .map { String(login.body[$0].split(separator: "\"")[3]) })
        let signedIn = curl(["-m", "30", "-c", jar, "-b", jar, "--data-urlencode", "csrf=\(csrf)", "--data-urlencode", "username=lead",
                             "--data-urlencode", "password=correct horse battery", "http://127.0.0.1:\(s.port)/login"])
        #expect(signedIn.status == 303)
        #expect(curl(["-m", "30", "-b", jar, "http://127.0.0.1:\(s.port)/practice/\(ods)"]).status == 200)
        #expect(curl(["-m", "60", "-b", jar, "http://127.0.0.1:\(s.port)/practice/\(ods)/indicator/HYP008"]).status == 200)

        // The daemon role may append to the audit log, in its own name only, and never rewrite it or disable triggers.
        let d = try await PostgresConnection.connect(asDaemon)
        defer { Task { await d.close() } }
        try await d.execute("INSERT INTO audit_log (actor, action, recorded_by) VALUES ('someone else', 'test', 'qofd')")
        let recorded = try await owner.query("SELECT recorded_by FROM audit_log WHERE action = 'test'")[0].decode(0, as: String.self)
        #expect(recorded == daemonRole, "the row says which role wrote it, whatever the client claimed")
        for statement in ["SET session_replication_role = replica", "DELETE FROM audit_log", "UPDATE web_user SET patient_access = true",
                          "CREATE TABLE schema_migrations_x (a int)"] {
            do {
                try await d.executeScript(statement)
                Issue.record("the daemon role may not: \(statement)")
            } catch let e as PostgresError {
                #expect(e.sqlState == "42501", "\(statement): \(e.sqlState ?? "")")
            }
        }

        // The reader reads results, never a password hash or a session, and writes nothing.
        let r = try await PostgresConnection.connect(asReader)
        defer { Task { await r.close() } }
        #expect(try await r.query("SELECT count(*) FROM indicator_result")[0].decode(0, as: Int.self) > 0)
        #expect(try await r.query("SELECT count(*) FROM web_user")[0].decode(0, as: Int.self) >= 0)
        for statement in ["SELECT password_hash FROM web_user", "SELECT * FROM web_session", "INSERT INTO audit_log (actor, action) VALUES ('r', 'x')"] {
            do {
                _ = try await r.query(PostgresQuery(statement))
                Issue.record("the reader may not: \(statement)")
            } catch let e as PostgresError {
                #expect(e.sqlState == "42501", "\(statement)")
            }
        }
    }
}

/// With no database configured, qofd's private cluster has the same split: the daemon never works as a superuser.
@Suite("The embedded cluster's roles", .serialized)
struct EmbeddedRolesTests {
    @Test("serve on the embedded cluster connects as qofd_daemon, which cannot switch off triggers or rewrite the audit log")
    func embeddedDaemonIsNotSuperuser() async throws {
        let base = TestFolders.make("embedded")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let port = freePort()
        let config = base.appending(path: "qofd.yaml")
        try Data("""
            state_dir: \(base.path)/state
            poll_interval: 1
            listen: 127.0.0.1:\(port)
            """.utf8).write(to: config)
        let daemon = try DaemonProcess(config: config, environment: [:], notify: nil, port: port, log: base.appending(path: "log"))
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.waitForExit(seconds: 30)
        }
        #expect(await eventually(90) { daemon.get("/readyz").0 == 200 }, "\(daemon.logText.suffix(2000))")
        let socket = base.appending(path: "state/postgres/run").path
        let admin = try await PostgresConnection.connect("host='\(socket)' port=5432 user=qofd dbname=qofd connect_timeout=10")
        defer { Task { await admin.close() } }
        let users = try await admin.query("SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = 'qofd' AND pid <> pg_backend_pid()")
            .map { try $0.decode(0, as: String.self) }
        #expect(users == ["qofd_daemon"], "\(users)")
        let d = try await PostgresConnection.connect("host='\(socket)' port=5432 user=qofd_daemon dbname=qofd connect_timeout=10")
        defer { Task { await d.close() } }
        for statement in ["SET session_replication_role = replica", "DELETE FROM audit_log"] {
            do {
                try await d.executeScript(statement)
                Issue.record("qofd_daemon may not: \(statement)")
            } catch let e as PostgresError {
                #expect(e.sqlState == "42501", "\(statement)")
            }
        }
        // A second daemon on the same state directory is refused at once (it would lose the database when the first stops).
        let second = try DaemonProcess(config: config, environment: [:], notify: nil, port: freePort(), log: base.appending(path: "log2"))
        #expect(second.waitForExit(seconds: 30) == 2)
        #expect(second.logText.contains("another qofd serve (pid \(daemon.pid))"))
        #expect(daemon.get("/readyz").0 == 200, "the first daemon and its database carry on")

        // Its own PostgreSQL dies: the daemon says not ready, starts it again, and says when it is back.
        let pidFile = base.appending(path: "state/postgres/data/postmaster.pid")
        let postmaster = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").first ?? ""))
        kill(postmaster, SIGKILL)
        #expect(await eventually(60) { daemon.logText.contains("restarted the embedded PostgreSQL cluster") }, "\(daemon.logText.suffix(2000))")
        #expect(await eventually(60) { daemon.logText.contains("database reachable again") && daemon.get("/readyz").0 == 200 })
    }
}
