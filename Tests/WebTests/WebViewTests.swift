import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import Postgres
import Testing
import TestSupport

/// The web view through a real browser and real HTTP, against `qofd serve` on a synthetic PCN.
@Suite("The web view", .serialized)
struct WebViewTests {
    @Test("headless Chromium signs in, opens the dashboard, drills into an indicator, explains patients, exports a worklist")
    func browser() async throws {
        let f = try await WebFixture.shared.value
        let shots = f.base.appending(path: "screenshots")
        let (status, data, errors) = try runBrowserScript("browser_check", [f.url, "pcnlead", f.password, f.practices[0], f.pcn, shots.path])
        try #require(status == 0, "browser check failed: \(errors.suffix(3000))")
        let findings = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])

        // The practice carries its name from the extracts, though its account came first.
        #expect(findings["practiceHeading"] as? String != "\(f.practices[0]) (\(f.practices[0]))")
        // Screenshots of every page were taken.
        let screenshots = findings["screenshots"] as? [String] ?? []
        #expect(screenshots.count == 8)
        for s in screenshots { #expect((try? FileManager.default.attributesOfItem(atPath: s)[.size] as? Int).flatMap { $0 } ?? 0 > 10_000) }
        // No page address carried a patient identifier.
        for u in findings["urls"] as? [String] ?? [] { #expect(!u.contains("\(f.practices[0])-"), "\(u)") }

        // What the pages said matches what the database holds.
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        let latest = "(SELECT id FROM computation_run WHERE practice_ods = '\(f.practices[0])' AND ruleset_id = 'qof-2025-26' ORDER BY achievement_date DESC, id DESC LIMIT 1)"
        let storedSQL = "SELECT denominator, numerator, register_size FROM indicator_result WHERE indicator_id = 'HYP008' AND run_id = \(latest)"
        let stored = try await conn.query(PostgresQuery(storedSQL))[0]
        let (denominator, numerator, register) = (try stored.decode(0, as: Int.self), try stored.decode(1, as: Int.self), try stored.decode(2, as: Int.self))
        #expect(findings["worklistCount"] as? Int == denominator - numerator, "the worklist is the denominator not yet achieving")
        let outcomesSQL = "SELECT count(*) FROM patient_outcome WHERE indicator_id = 'HYP008' AND outcome = 'denominator' AND run_id = \(latest)"
        let outcomes = try await conn.query(PostgresQuery(outcomesSQL))[0]
        #expect(findings["worklistCount"] as? Int == (try outcomes.decode(0, as: Int.self)), "and the same patients as the stored outcomes")
        let funnel = findings["funnel"] as? [[String]] ?? []
        #expect(funnel.first?.last == String(register))
        #expect(funnel.last?.last == String(numerator))
        #expect(funnel.dropLast().last?.last == String(denominator))
        let removed = funnel.dropFirst().dropLast(2).compactMap { Int($0.last ?? "") }.reduce(0, +)
        #expect(register - removed == denominator, "register minus every PCA and exclusion is the denominator")
        // The filtered export holds the filtered worklist.
        #expect(findings["csvRows"] as? Int == findings["filtered"] as? Int)
        #expect((findings["csvFile"] as? String)?.hasPrefix("\(f.practices[0])-HYP008-worklist") == true)
        #expect((findings["explainedOutcome"] as? String)?.contains("not yet achieved") == true)
        #expect((findings["anyPatientRegisterChains"] as? Int ?? 0) > 5, "every register is explained for a patient in no report")
        // Indicators are sorted by pounds at stake, and each has a trend from several runs.
        #expect((findings["indicatorOrder"] as? [String])?.count ?? 0 >= 20)
        let atStake = findings["atStake"] as? [Double] ?? []
        #expect(!atStake.isEmpty && zip(atStake, atStake.dropFirst()).allSatisfy { $0 >= $1 }, "\(atStake)")
        // With the shipped code lists, some indicators cannot be computed (e.g. CS005: no cervical screening cluster).
        #expect((findings["notAssessed"] as? [String] ?? []).contains("CS005"))
        #expect(findings["trendCharts"] as? Int ?? 0 >= 20)
        #expect((findings["pcnColumns"] as? [String])?.contains(f.practices[1]) == true)
        #expect(findings["seasonCharts"] as? Int ?? 0 >= 5)

        // Every patient-identifiable view was audited, naming who and which list.
        let auditSQL = "SELECT action, count(*) FROM audit_log WHERE actor = 'pcnlead' GROUP BY action ORDER BY action"
        let audited = try await conn.query(PostgresQuery(auditSQL)).map {
            "\(try $0.decode(0, as: String.self))=\(try $0.decode(1, as: Int.self))"
        }
        #expect(audited.contains { $0.hasPrefix("web-export-worklist=") })
        #expect(audited.contains("web-view-patient=2"), "\(audited)")
        #expect(audited.contains { $0.hasPrefix("web-view-worklist=") })
        #expect(audited.contains { $0.hasPrefix("web-sign-in=") })
    }

    @Test("each role sees what it may: another practice's page is 403, patient pages need patient access")
    func accessControl() async throws {
        let f = try await WebFixture.shared.value
        let (a, b) = (f.practices[0], f.practices[1])
        let pages: [(String, String)] = [
            ("home", "/"), ("dashboard A", "/practice/\(a)"), ("dashboard B", "/practice/\(b)"),
            ("indicator A", "/practice/\(a)/indicator/HYP008"), ("indicator B", "/practice/\(b)/indicator/HYP008"),
            ("worklist CSV A", "/practice/\(a)/indicator/HYP008/worklist.csv"), ("worklist CSV B", "/practice/\(b)/indicator/HYP008/worklist.csv"),
            ("patient form A", "/practice/\(a)/patient"), ("inequalities A", "/practice/\(a)/inequalities"),
            ("inequalities B", "/practice/\(b)/inequalities"), ("PCN", "/pcn/\(f.pcn)"), ("PCN inequalities", "/pcn/\(f.pcn)/inequalities"),
        ]
        // Expected status per user, in the order of `pages`.
        let expected: [String: [Int]] = [
            "practice1": [200, 200, 403, 200, 403, 200, 403, 200, 200, 403, 403, 403],
            "practice2": [200, 403, 200, 403, 200, 403, 403, 403, 403, 200, 403, 403],
            "pcnlead": [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
            "commissioner": [200, 200, 200, 200, 200, 403, 403, 403, 200, 200, 200, 200],
        ]
        for (user, statuses) in expected.sorted(by: { $0.key < $1.key }) {
            let s = try Session(f, user: user)
            for ((name, path), status) in zip(pages, statuses) {
                #expect(s.get(path).status == status, "\(user) → \(name) \(path)")
            }
        }
        // A practice that left the PCN before the previous QOF year is no longer the PCN lead's.
        let conn = try await PostgresConnection.connect(f.conninfo)
        try await conn.executeScript("""
            INSERT INTO organisation (ods_code, kind, name) VALUES ('Z99999', 'practice', 'Former member') ON CONFLICT DO NOTHING;
            INSERT INTO pcn_membership (practice_ods, pcn_ods, valid_from, valid_to) VALUES ('Z99999', '\(f.pcn)', '2019-04-01', '2021-03-31')
                ON CONFLICT DO NOTHING;
            """)
        await conn.close()
        #expect(try Session(f, user: "pcnlead").get("/practice/Z99999").status == 403)
        #expect(try Session(f, user: "commissioner").get("/practice/Z99999").status == 200)
        // Signed out: every page sends you to sign in.
        let anonymous = try Session(f, user: nil)
        for (name, path) in pages { #expect(anonymous.get(path).status == 303, "anonymous → \(name)") }
        // The worklist is shown only with patient access (practice2 sees its indicator, not its patients).
        let practice2 = try Session(f, user: "practice2")
        let page = practice2.get("/practice/\(b)/indicator/HYP008").body
        #expect(page.contains("id=\"funnel\"") && !page.contains("id=\"worklist\""))
        // A form post needs the session's CSRF token; with it the explanation is shown; patient ids stay out of addresses.
        let lead = try Session(f, user: "practice1")
        #expect(lead.post("/practice/\(a)/patient", ["patient": "\(a)-3"]).status == 403)
        #expect(lead.post("/practice/\(a)/patient", ["patient": "\(a)-3", "csrf": "0000"]).status == 403)
        let token = try #require(lead.csrf())
        let explained = lead.post("/practice/\(a)/patient", ["patient": "\(a)-3", "csrf": token])
        #expect(explained.status == 200 && explained.body.contains("Rule by rule"))
        #expect(!explained.body.contains("href=\"/practice/\(a)/patient?"))
        // A patient can be looked up by NHS number (as the worklist export shows it, 3-3-4) as well as by id.
        let export = lead.get("/practice/\(a)/indicator/HYP008/worklist.csv").body.split(whereSeparator: \.isNewline)
        if export.count > 1 {
            let cells = export[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if !cells[1].isEmpty {
                let byNumber = lead.post("/practice/\(a)/patient", ["patient": cells[1], "csrf": token])
                #expect(byNumber.status == 200 && byNumber.body.contains("Patient \(cells[0])"), "found by NHS number \(cells[1])")
            }
        }
        // Another practice's patient cannot be asked for, even with a valid token.
        #expect(lead.post("/practice/\(b)/patient", ["patient": "\(b)-3", "csrf": token]).status == 403)
        // Small numbers are suppressed beyond the practice (PCN view), not for the practice's own users.
        #expect(try Session(f, user: "pcnlead").get("/pcn/\(f.pcn)/inequalities").body.contains("id=\"suppression\""))
        #expect(!lead.get("/practice/\(a)/inequalities").body.contains("id=\"suppression\""))
        #expect(try Session(f, user: "commissioner").get("/practice/\(a)/inequalities").body.contains("id=\"suppression\""))
        // Wrong password: refused.
        #expect(throws: (any Error).self) { try Session(f, user: "nobody") }
    }
}

@Suite("Sign-in through a trusted reverse proxy")
struct ProxySignInTests {
    @Test("web_auth: proxy takes the user from the configured header; unknown or absent users get 401, others' practices 403")
    func proxy() async throws {
        let f = try await WebFixture.shared.value
        let port = freePort()
        let config = f.base.appending(path: "proxy.yaml")
        try FileManager.default.createDirectory(at: f.base.appending(path: "proxy-inbox"), withIntermediateDirectories: true)
        try Data("""
            database_url: "\(f.conninfo)"
            state_dir: \(f.base.path)/proxy-state
            inbox: \(f.base.path)/proxy-inbox
            archive: \(f.base.path)/archive
            quarantine: \(f.base.path)/proxy-quarantine
            listen: 127.0.0.1:\(port)
            rulesets: [qof-2025-26, flu-2025-26]
            web_auth: proxy
            web_proxy_header: X-Forwarded-User
            """.utf8).write(to: config)
        let daemon = try DaemonProcess(config: config, environment: [:], notify: nil, port: port, log: f.base.appending(path: "proxy-log"))
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.waitForExit(seconds: 20)
        }
        #expect(await eventually(30) { daemon.get("/healthz").0 == 200 }, "\(daemon.logText)")
        func status(_ path: String, user: String?) -> Int {
            curl(["-o", "/dev/null", "-m", "30"] + (user.map { ["-H", "X-Forwarded-User: \($0)"] } ?? []) + ["http://127.0.0.1:\(port)\(path)"]).status
        }
        let (a, b) = (f.practices[0], f.practices[1])
        #expect(status("/practice/\(a)", user: "practice1") == 200)
        #expect(status("/practice/\(b)", user: "practice1") == 403)
        #expect(status("/practice/\(a)/indicator/HYP008/worklist.csv", user: "practice1") == 200)
        #expect(status("/practice/\(a)", user: nil) == 401)
        #expect(status("/practice/\(a)", user: "someone-else") == 401)
        #expect(status("/pcn/\(f.pcn)", user: "commissioner") == 200)
    }
}
