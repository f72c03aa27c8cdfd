import Clinical
import Clusters
import Extracts
import Foundation
import Postgres
import Storage
import Synth
import TestSupport
import Web

/// A synthetic PCN of two practices, each sending five extracts (the last year end, then four through
/// the year), processed by a real `qofd serve` with its web view for QOF 2025/26, QOF 2024/25 (income protection
/// for the first practice), flu, shingles and the Network Contract DES 2025/26, and accounts: a practice user with patient access, one
/// without, a PCN lead with patient access, a commissioner without; for declaring, the second practice's declarer and an approving
/// commissioner, and the PCN's nominated person (declares the PCN's Network Contract DES). Built once for the web tests.
final class WebFixture: Sendable {
    let conninfo: String
    let daemon: DaemonProcess
    let base: URL
    let practices: [String]
    let pcn: String
    /// National figures directory (income protection for the first practice).
    let national: URL
    let password = "correct horse battery"
    var url: String { "http://127.0.0.1:\(daemon.port)" }

    static let shared = Task<WebFixture, any Error> { try await WebFixture() }

    private init() async throws {
        conninfo = try await TestDatabase.fresh(migrated: true, label: "web")
        base = TestFolders.make("web")
        let inbox = base.appending(path: "inbox"), staging = base.appending(path: "staging")
        var o = Synthesizer.Options()
        o.seed = 909
        o.practices = 2
        o.patients = 3_000
        let written = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: staging)
        practices = written.map(\.practice.ods)
        pcn = written[0].practice.pcnODS!
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        for w in written {
            let population = ExtractLoader().load(w.directory).population!
            for day in ["2025-03-31", "2025-10-05", "2025-12-28", "2026-02-22"].compactMap(Day.init(iso:)) {
                let name = "\(w.practice.ods)-\(day)"
                _ = try CSVExtractWriter.write(population.asOf(day), to: staging.appending(path: name))
                try FileManager.default.moveItem(at: staging.appending(path: name), to: inbox.appending(path: name))
            }
            try FileManager.default.moveItem(at: w.directory, to: inbox.appending(path: w.directory.lastPathComponent))
        }
        // Accounts: one through the real command line (bcrypt cost 12), the others directly (cost 4, quicker).
        let passwordFile = base.appending(path: "password")
        try Data((password + "\n").utf8).write(to: passwordFile)
        let p = Process()
        p.executableURL = qofdExecutable()
        p.arguments = ["user", "add", "pcnlead", "--role", "pcn", "--scope", pcn, "--patient-access", "--password-file", passwordFile.path,
                       "--database-url", conninfo]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw FixtureError("qofd user add failed") }
        let conn = try await PostgresConnection.connect(conninfo)
        let (first, second, pcn, hash) = (practices[0], practices[1], self.pcn, WebApp.hashPassword(password, cost: 4))
        try await conn.withTransaction { c in
            for (name, role, scope, patients, right) in [
                ("practice1", WebAccounts.Role.practice, first, true, nil), ("practice2", .practice, second, false, nil),
                ("commissioner", .commissioner, nil, false, nil),
                ("declarer2", .practice, second, false, .declare), ("approver", .commissioner, nil, false, .approve),
                ("pcndeclarer", .pcn, pcn, false, .declare),
            ] as [(String, WebAccounts.Role, String?, Bool, WebAccounts.DeclarationRight?)] {
                try WebAccounts.save(.init(username: name, role: role, scope: scope, patientAccess: patients, right: right, passwordHash: hash), in: c)
            }
        }
        await conn.close()

        // Last year's points of the first practice's income-protected indicators (QOF 2024/25).
        national = base.appending(path: "national")
        try FileManager.default.createDirectory(at: national, withIntermediateDirectories: true)
        try Data("ORG_CODE,IND_CODE,POINTS\n\(first),QI013,20.5\n\(first),AST008,6\n".utf8)
            .write(to: national.appending(path: "qof-2024-25-income-protection.csv"))
        let port = freePort()
        let config = base.appending(path: "qofd.yaml")
        try Data("""
            database_url: "\(conninfo)"
            state_dir: \(base.path)/state
            inbox: \(inbox.path)
            archive: \(base.path)/archive
            quarantine: \(base.path)/quarantine
            poll_interval: 1
            listen: 127.0.0.1:\(port)
            rulesets: [qof-2025-26, qof-2024-25, flu-2025-26, shingles-2025-26, des-2025-26]
            national_dir: \(national.path)
            """.utf8).write(to: config)
        daemon = try DaemonProcess(config: config, environment: [:], notify: nil, port: port, log: base.appending(path: "log"))
        let expected = written.count * 5
        let conninfo = self.conninfo
        let done = await eventually(240) {
            guard let c = try? await PostgresConnection.connect(conninfo) else { return false }
            defer { Task { await c.close() } }
            let n = (try? await c.query("SELECT count(*) FROM extract WHERE status = 'processed'")[0].decode(0, as: Int.self)) ?? 0
            return n == expected
        }
        guard done else { throw FixtureError("extracts not processed in time: \(daemon.logText.suffix(2000))") }
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

/// A signed-in browser stand-in for plain HTTP checks: curl with a cookie jar.
struct Session {
    let fixture: WebFixture
    let jar: URL

    init(_ fixture: WebFixture, user: String?) throws {
        self.fixture = fixture
        jar = fixture.base.appending(path: "jar-\(user ?? "anonymous")-\(UUID().uuidString.prefix(6))")
        guard let user else { return }
        let login = curl(["-m", "60", "-c", jar.path, "\(fixture.url)/login"])
        guard let csrf = login.body.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression)
            .map({ String(login.body[$0].split(separator: "\"")[3]) }) else { throw WebFixture.FixtureError("no sign-in form") }
        let posted = curl(["-m", "60", "-c", jar.path, "-b", jar.path, "--data-urlencode", "csrf=\(csrf)", "--data-urlencode", "username=\(user)",
                           "--data-urlencode", "password=\(fixture.password)", "\(fixture.url)/login"])
        guard posted.status == 303 else { throw WebFixture.FixtureError("sign-in as \(user) gave \(posted.status)") }
    }

    /// The session's CSRF token, read from a page's forms.
    func csrf() -> String? {
        let home = get("/")
        return home.body.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression).map { String(home.body[$0].split(separator: "\"")[3]) }
    }

    func get(_ path: String) -> (status: Int, body: String) { curl(["-m", "60", "-b", jar.path, fixture.url + path]) }

    func post(_ path: String, _ fields: [String: String]) -> (status: Int, body: String) {
        curl(["-m", "60", "-b", jar.path] + fields.flatMap { ["--data-urlencode", "\($0.key)=\($0.value)"] } + [fixture.url + path])
    }
}

/// Runs one of the bundled browser scripts with python3: its exit status, its standard output (the findings as
/// JSON) and its standard error (the reason, when it fails).
func runBrowserScript(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
    guard let script = Bundle.module.url(forResource: name, withExtension: "py") else { throw WebFixture.FixtureError("\(name).py is not bundled") }
    // Chromium leaves its singleton folder (org.chromium.Chromium.*) in TMPDIR: give it one of its own, removed afterwards.
    let tmp = FileManager.default.temporaryDirectory.appending(path: "qofd-browser-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", script.path] + arguments
    p.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": tmp.path]) { _, new in new }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, data, errors)
}
