import Foundation
import Postgres
import Synth
import Clusters
import Testing
import TestSupport

/// The command line as an operator meets it: failures exit non-zero with the command's own message, ODS codes
/// are read in any case, patient-identifiable files are owner-only, and logs carry journald priorities.
@Suite("The command line")
struct CommandLineTests {
    struct Result {
        let status: Int32
        let out: String
        let err: String
    }

    static func qofd(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = qofdExecutable()
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    @Test("a named practice with nothing to report fails; lower-case codes are the same practice; errors name the command")
    func reportAndValidation() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let out = TestFolders.make("cli-report")
        let missing = try Self.qofd(["report", "--practice", "y99999", "--output", out.path, "--database-url", url])
        #expect(missing.status == 1)
        #expect(missing.err.contains("for Y99999"), "\(missing.err)")
        let payments = try Self.qofd(["compute", "--extract", out.path, "--format", "csv", "--payments"])
        #expect(payments.status == 64 && payments.err.contains("qofd compute: --payments") && payments.err.contains("qofd help compute"))
        #expect(!payments.err.contains("Usage: qofd <subcommand>"))
        let scope = try Self.qofd(["user", "add", "lead", "--role", "pcn", "--scope", "A81001", "--password-stdin", "--database-url", url])
        #expect(scope.status != 0 && scope.err.contains("PCN ODS code"), "\(scope.err)")
    }

    @Test("a flu call list is written owner-only before its audit row; an unwritable place is a clear error and nothing is audited")
    func callListFileFirst() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        var o = Synthesizer.Options()
        o.seed = 7
        o.practices = 1
        o.patients = 200
        o.dataTo = .init(year: 2026, month: 1, day: 10)!
        let base = TestFolders.make("cli-flu")
        let extract = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: base)[0].directory
        let bad = try Self.qofd(["flu-calllist", "--extract", extract.path, "--by", "PM", "--output", base.appending(path: "no/such/dir/list.csv").path,
                                 "--database-url", url])
        #expect(bad.status != 0 && bad.err.contains("cannot write") && !bad.err.contains("NSCocoaErrorDomain"), "\(bad.err)")
        let conn = try await PostgresConnection.connect(url)
        defer { Task { await conn.close() } }
        #expect(try await conn.query("SELECT count(*) FROM audit_log WHERE action = 'flu-call-list'")[0].decode(0, as: Int.self) == 0)
        let file = base.appending(path: "list.csv")
        let good = try Self.qofd(["flu-calllist", "--extract", extract.path, "--by", "PM", "--output", file.path, "--database-url", url])
        #expect(good.status == 0, "\(good.err)")
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int) == 0o600)
        #expect(try await conn.query("SELECT count(*) FROM audit_log WHERE action = 'flu-call-list'")[0].decode(0, as: Int.self) == 1)
    }

    @Test("a configured inbox that does not exist stops start-up naming the option; logs under systemd carry priorities")
    func inboxAndJournal() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let base = TestFolders.make("cli-serve")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let config = base.appending(path: "qofd.yaml")
        try Data("database_url: \"\(url)\"\nstate_dir: \(base.path)/state\ninbox: \(base.path)/inbxo\nlisten: 127.0.0.1:\(freePort())\n".utf8).write(to: config)
        let serve = try Self.qofd(["serve", "--config", config.path])
        #expect(serve.status == 2 && serve.err.contains("inbox") && serve.err.contains("does not exist"), "\(serve.err)")
        #expect(!FileManager.default.fileExists(atPath: base.appending(path: "inbxo").path), "a mistyped inbox is never created")
        let empty = try await TestDatabase.fresh(migrated: false)
        let migrate = try Self.qofd(["migrate", "--database-url", empty], environment: ["JOURNAL_STREAM": "8:1234"])
        let lines = migrate.err.split(separator: "\n")
        #expect(lines.count >= 11 && lines.allSatisfy { $0.hasPrefix("<6>qofd.migrate: applied migration") }, "\(migrate.err)")
    }
}

extension CommandLineTests {
    @Test("qofd compute --ruleset des-2025-26 gives each PCN its summed counts, IIF points and pounds, flagged unverified")
    func computeDES() throws {
        let base = TestFolders.make("cli-des")
        var o = Synthesizer.Options()
        o.seed = 12
        o.practices = 2
        o.patients = 8_000
        let written = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: base)
        let result = try Self.qofd(["compute", "--ruleset", "des-2025-26"] + written.flatMap { ["--extract", $0.directory.path] })
        #expect(result.status == 0, "\(result.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let practices = try #require(json["practices"] as? [[String: Any]])
        let pcns = try #require(json["pcns"] as? [[String: Any]])
        #expect(pcns.count == 1 && pcns[0]["pcn"] as? String == written[0].practice.pcnODS)
        let pcn = pcns[0]
        #expect(pcn["listSize"] as? Int == practices.compactMap { $0["listSize"] as? Int }.reduce(0, +))
        let can04 = try #require((pcn["indicators"] as? [[String: Any]])?.first { $0["id"] as? String == "CAN-04" })
        let memberDenominators = practices.compactMap { p in (p["indicators"] as? [[String: Any]])?.first { $0["id"] as? String == "CAN-04" }?["denominator"] as? Int }
        #expect(can04["denominator"] as? Int == memberDenominators.reduce(0, +) && memberDenominators.count == 2)
        #expect(can04["pounds"] is Double && (can04["practices"] as? [[String: Any]])?.count == 2)
        #expect((pcn["unverified"] as? [String])?.contains("point_value") == true)
    }

    @Test("qofd declare --pcn declares a PCN's DES; --practice and --pcn together are refused")
    func declarePCN() async throws {
        let url = try await TestDatabase.fresh(migrated: true)
        let both = try Self.qofd(["declare", "--practice", "A81001", "--pcn", "U12345", "--ruleset", "des-2025-26", "--by", "PM", "--database-url", url])
        #expect(both.status != 0 && both.err.contains("one of them"), "\(both.err)")
        let none = try Self.qofd(["declare", "--pcn", "u12345", "--ruleset", "des-2025-26", "--by", "CD", "--database-url", url])
        #expect(none.status != 0 && none.err.contains("no computed run for U12345"), "\(none.err)")
    }
}
