import Clinical
import Daemon
import Extracts
import Foundation
import Postgres
import Storage
import Testing
import TestSupport

@Suite("Declarations: declare, approve, return, and figures changing afterwards")
struct DeclarationTests {
    /// A database with one processed practice; returns the subject and the archived extract.
    static func processedPractice() async throws -> (PostgresConnection, DeclarationStore.Subject, URL, ExtractProcessorTests.Site) {
        let conn = try await TestDatabase.connect(migrated: true)
        let site = try ExtractProcessorTests.site(practices: 1, patients: 1_500, seed: 41)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "t")
        let dir = try #require(p.pending().first)
        _ = try await p.process(dir, using: conn)
        let ods = site.written[0].practice.ods
        let subject = DeclarationStore.Subject(practice: ods, ruleset: "qof-2025-26", achievementDate: Day(year: 2026, month: 3, day: 31)!)
        return (conn, subject, site.directories.archive.appending(path: ods).appending(path: dir.lastPathComponent), site)
    }

    @Test("the full state machine, with illegal transitions refused and every action audited")
    func stateMachine() async throws {
        let (conn, s, _, _) = try await Self.processedPractice()
        func refused(_ body: @escaping @Sendable (isolated PostgresConnection) throws -> Void) async -> String? {
            do {
                try await conn.withTransaction { c in try body(c) }
                return nil
            } catch let e as DeclarationStore.Refused { return e.description } catch { return "\(error)" }
        }
        #expect(try await DeclarationStore.state(s, in: conn) == .awaitingPracticeDeclaration)
        #expect(await refused { try DeclarationStore.approve(s, by: "icb", note: nil, in: $0) }?.contains("cannot approve") == true)
        #expect(await refused { try DeclarationStore.returnToPractice(s, by: "icb", reason: "no", in: $0) }?.contains("cannot return") == true)

        // Figures on missing code lists are declared only when the declarer says so, and the audit log records it.
        let refusal = await refused { try DeclarationStore.declare(s, by: "Practice Manager", note: nil, in: $0) }
        #expect(refusal?.contains("missing code lists") == true && refusal?.contains("--accept-incomplete") == true)
        let snapshot = try await conn.withTransaction { c in try DeclarationStore.declare(s, by: "Practice Manager", note: "checked", acceptIncomplete: true, in: c) }
        let details = try await conn.query("SELECT details::text FROM audit_log WHERE action = 'declare' ORDER BY id LIMIT 1")[0].decode(0, as: String.self)
        #expect(details.contains("acceptedIncomplete") && details.contains("CS005"))
        #expect(snapshot.sha256.count == 64)
        #expect(try await DeclarationStore.state(s, in: conn) == .awaitingCommissionerApproval)
        #expect(await refused { try DeclarationStore.declare(s, by: "Practice Manager", note: nil, acceptIncomplete: true, in: $0) }?.contains("cannot declare") == true)
        #expect(await refused { try DeclarationStore.returnToPractice(s, by: "icb", reason: "  ", in: $0) }?.contains("needs a reason") == true)

        try await conn.withTransaction { c in try DeclarationStore.returnToPractice(s, by: "ICB lead", reason: "HYP008 looks low", in: c) }
        #expect(try await DeclarationStore.state(s, in: conn) == .returned)
        try await conn.withTransaction { c in _ = try DeclarationStore.declare(s, by: "Practice Manager", note: "rechecked", acceptIncomplete: true, in: c) }
        try await conn.withTransaction { c in try DeclarationStore.approve(s, by: "ICB lead", note: nil, in: c) }
        #expect(try await DeclarationStore.state(s, in: conn) == .approved)
        #expect(await refused { try DeclarationStore.declare(s, by: "Practice Manager", note: nil, acceptIncomplete: true, in: $0) }?.contains("approved") == true)

        let trail = try await DeclarationStore.auditTrail(practice: s.practice, in: conn)
        #expect(trail.map(\.action) == ["declare", "return", "declare", "approve"])
        #expect(trail[1].note == "HYP008 looks low" && trail[1].from == "awaiting_commissioner_approval" && trail[1].to == "returned")
        #expect(trail.allSatisfy { $0.sha256 == snapshot.sha256 })
        // Declarations are immutable.
        await #expect(throws: PostgresError.self) { try await conn.executeScript("UPDATE declaration SET declared_by = 'someone else'") }
    }

    @Test("a later run that changes any figure sends a declaration back to the practice and says what changed")
    func figuresChange() async throws {
        let (conn, s, archived, site) = try await Self.processedPractice()
        try await conn.withTransaction { c in _ = try DeclarationStore.declare(s, by: "PM", note: nil, acceptIncomplete: true, in: c) }
        // A corrected extract for the same practice and date: some BP readings removed.
        var builder = PopulationBuilder(try #require(ExtractLoader().load(archived).population))
        let bp = builder.codes.lookup(75_367_002)!
        builder.events = builder.events.map { e in e.code == bp && e.value < 140 && e.date.year == 2026 ? Event(date: e.date, code: bp, value: 160, value2: 95) : e }
        let population = try builder.build()
        let corrected = site.directories.inbox.appending(path: "\(s.practice)-2026-03-31-corrected")
        _ = try CSVExtractWriter.write(population, to: corrected)
        let p = ExtractProcessor(directories: site.directories, rulesets: [ExtractProcessorTests.ruleset], library: ExtractProcessorTests.library, worker: "t")
        _ = try await p.process(corrected, using: conn)
        #expect(try await DeclarationStore.state(s, in: conn) == .awaitingPracticeDeclaration)
        let last = try #require(try await DeclarationStore.auditTrail(practice: s.practice, in: conn).last)
        #expect(last.action == "figures-changed")
        #expect(last.note?.contains("HYP008") == true)
    }

    @Test("the daemon's database role cannot update or delete the audit log")
    func auditLogRole() async throws {
        let (conn, s, _, _) = try await Self.processedPractice()
        try await conn.withTransaction { c in _ = try DeclarationStore.declare(s, by: "PM", note: nil, acceptIncomplete: true, in: c) }
        let role = "qofd_daemon_\(UUID().uuidString.prefix(8).lowercased())"
        let reader = "qofd_reader_\(UUID().uuidString.prefix(8).lowercased())"
        let roles = try String(contentsOf: SystemdUnitTests.repository.appending(path: "deploy/roles.sql"), encoding: .utf8)
            .replacingOccurrences(of: "qofd_daemon", with: role).replacingOccurrences(of: "qofd_reader", with: reader)
        try await conn.executeScript(roles)
        let database = try await conn.query("SELECT current_database()")[0].decode(0, as: String.self)
        let cluster = try await TestDatabase.cluster()
        let daemon = try await PostgresConnection.connect(cluster.conninfo(database: database).replacingOccurrences(of: "user=qofd", with: "user=\(role)"))
        // It may read and append …
        try await daemon.execute("INSERT INTO audit_log (actor, action) VALUES ('daemon', 'test')")
        #expect(try await daemon.query("SELECT count(*) FROM audit_log")[0].decode(0, as: Int.self) == 2)
        // … but never rewrite.
        for statement in ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
            do {
                try await daemon.executeScript(statement)
                Issue.record("\(statement) should be refused")
            } catch let e as PostgresError {
                #expect(e.sqlState == "42501", "\(statement): \(e)")
            }
        }
    }
}
