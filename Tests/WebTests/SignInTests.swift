import Foundation
import Postgres
import Storage
import Testing
import TestSupport
import Web

/// Sign-in cannot be brute-forced or used to find out which usernames exist, and every failure and every
/// refused patient-level request is audited.
@Suite("Sign-in and refusals", .serialized)
struct SignInTests {
    func attempt(_ f: WebFixture, user: String, password: String) -> (status: Int, seconds: Double) {
        let jar = TestFolders.make("jar").path
        let login = curl(["-m", "30", "-c", jar, "\(f.url)/login"])
        let csrf = login.body.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression)
            .map { String(login.body[$0].split(separator: "\"")[3]) } ?? ""
        let started = Date()
        let r = curl(["-m", "30", "-c", jar, "-b", jar, "--data-urlencode", "csrf=\(csrf)", "--data-urlencode", "username=\(user)",
                      "--data-urlencode", "password=\(password)", "\(f.url)/login"])
        return (r.status, Date().timeIntervalSince(started))
    }

    @Test("five wrong passwords lock the name for a while, even for the right password; unknown names are treated the same")
    func bruteForceLimit() async throws {
        let f = try await WebFixture.shared.value
        let name = "victim\(UUID().uuidString.prefix(6).lowercased())"
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        try await conn.withTransaction { c in
            try WebAccounts.save(.init(username: name, role: .commissioner, scope: nil, patientAccess: false,
                                       passwordHash: WebApp.hashPassword(f.password, cost: 12)), in: c)
        }
        var known: [Double] = [], unknown: [Double] = []
        for i in 0..<5 {
            let k = attempt(f, user: name, password: "wrong \(i)")
            #expect(k.status == 401)
            known.append(k.seconds)
            let u = attempt(f, user: "nobody\(name)", password: "wrong \(i)")
            #expect(u.status == 401)
            unknown.append(u.seconds)
        }
        #expect(attempt(f, user: name, password: f.password).status == 429, "locked after five failures, even with the right password")
        #expect(attempt(f, user: "nobody\(name)", password: "x").status == 429, "an unknown name is locked the same way")
        // Unknown names cost the same bcrypt work as known ones (no enumeration by timing).
        let (k, u) = (known.sorted()[2], unknown.sorted()[2])
        #expect(u > k / 3, "median known \(k) s, unknown \(u) s")
        let failures = try await conn.query(
            "SELECT count(*) FROM audit_log WHERE action = 'web-sign-in-failed' AND actor IN (\(name), \("nobody" + name))")[0].decode(0, as: Int.self)
        #expect(failures == 10, "every failed sign-in is audited")
    }

    @Test("a NUL in a query is dropped, never a server error; error pages never show internal messages")
    func controlCharacters() async throws {
        let f = try await WebFixture.shared.value
        let s = try Session(f, user: "pcnlead")
        let r = s.get("/practice/\(f.practices[0])/indicator/HYP008?q=%00")
        #expect(r.status == 200)
        #expect(!r.body.contains("PostgreSQL"))
    }

    @Test("a refused patient-level request is audited")
    func refusalsAudited() async throws {
        let f = try await WebFixture.shared.value
        // practice2 has no patient access: the worklist export is refused, and the refusal recorded.
        let s = try Session(f, user: "practice2")
        #expect(s.get("/practice/\(f.practices[1])/indicator/HYP008/worklist.csv").status == 403)
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        let n = try await conn.query(
            "SELECT count(*) FROM audit_log WHERE actor = 'practice2' AND action = 'web-refused-patient-access'")[0].decode(0, as: Int.self)
        #expect(n >= 1)
    }
}
