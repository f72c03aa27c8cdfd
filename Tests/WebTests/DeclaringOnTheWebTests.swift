import Foundation
import Postgres
import Storage
import Testing
import TestSupport
import Web

/// Declaring on the web: the practice's declarer declares what the page shows, a commissioner with the
/// approve right approves or returns it, nobody else can, and every step is the workflow's own (its
/// states and audit log), as with the command line.
@Suite("Declaring on the web")
struct DeclaringOnTheWebTests {
    /// A hidden form field's value on a page.
    static func field(_ name: String, in body: String) -> String? {
        body.range(of: #"name="\#(name)" value="[^"]*""#, options: .regularExpression).map { String(body[$0].split(separator: "\"")[3]) }
    }

    @Test("a declarer declares (accepting incomplete indicators), a commissioner returns with a reason, the practice declares again, the commissioner approves")
    func declareReturnApprove() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[1]
        let page = "/practice/\(ods)/declaration?ruleset=qof-2025-26"

        // Without the declare right: the page explains who may declare, and a posted declaration is refused.
        let viewerOnly = try Session(f, user: "practice2")
        let seen = viewerOnly.get(page)
        #expect(seen.status == 200 && seen.body.contains("id=\"who-declares\"") && !seen.body.contains("id=\"declare-form\""))
        #expect(seen.body.contains("awaiting practice declaration"))
        let date = try #require(Self.field("achievement_date", in: try Session(f, user: "declarer2").get(page).body))

        let declarer = try Session(f, user: "declarer2")
        let form = declarer.get(page)
        #expect(form.body.contains("id=\"declare-form\"") && form.body.contains("id=\"summary\""))
        let run = try #require(Self.field("run", in: form.body))
        let csrf = try #require(Self.field("csrf", in: form.body))
        let incomplete = form.body.contains("id=\"accept_incomplete\"")
        var declare = ["csrf": csrf, "action": "declare", "ruleset": "qof-2025-26", "achievement_date": date, "run": run, "note": "checked by the partners"]
        #expect(viewerOnly.post("/practice/\(ods)/declaration", declare.merging(["csrf": viewerOnly.csrf() ?? ""]) { $1 }).status == 403)
        #expect(declarer.post("/practice/\(ods)/declaration", declare.merging(["csrf": "stale"]) { $1 }).status == 403, "a form without the session's token")
        if incomplete {
            // Indicators resting on missing code lists must be accepted explicitly.
            let refused = declarer.post("/practice/\(ods)/declaration", declare)
            #expect(refused.status == 409 && refused.body.contains("There is a problem") && refused.body.contains("tick the box"))
            declare["accept_incomplete"] = "yes"
        }
        let stale = declarer.post("/practice/\(ods)/declaration", declare.merging(["run": "1"]) { $1 })
        #expect(stale.status == 409 && stale.body.contains("a newer run arrived"), "declaring figures other than the latest run's is refused")
        #expect(declarer.post("/practice/\(ods)/declaration", declare).status == 303)
        let declared = declarer.get(page)
        #expect(declared.body.contains("awaiting commissioner approval") && declared.body.contains("Declared by declarer2"))
        #expect(!declared.body.contains("id=\"declare-form\""), "no second declaration while one waits")

        // The declarer cannot approve; a commissioner without the approve right sees no buttons.
        let sha = try #require(Self.field("sha", in: try Session(f, user: "approver").get(page).body))
        let approve = ["csrf": csrf, "action": "approve", "ruleset": "qof-2025-26", "achievement_date": date, "sha": sha]
        #expect(declarer.post("/practice/\(ods)/declaration", approve).status == 403)
        let plainCommissioner = try Session(f, user: "commissioner")
        let looked = plainCommissioner.get(page)
        #expect(looked.status == 200 && looked.body.contains("id=\"who-approves\"") && !looked.body.contains("id=\"approve-form\""))

        // The approver's home page lists it; a return needs a reason.
        let approver = try Session(f, user: "approver")
        let home = approver.get("/")
        #expect(home.body.contains("id=\"awaiting\"") && home.body.contains("/practice/\(ods)/declaration?ruleset=qof-2025-26&amp;date=\(date)"))
        let approverCSRF = try #require(approver.csrf())
        let giveBack = ["csrf": approverCSRF, "action": "return", "ruleset": "qof-2025-26", "achievement_date": date, "sha": sha]
        let noReason = approver.post("/practice/\(ods)/declaration", giveBack.merging(["reason": "  "]) { $1 })
        #expect(noReason.status == 409 && noReason.body.contains("A return needs a reason"))
        #expect(approver.post("/practice/\(ods)/declaration", giveBack.merging(["reason": "CHOL003 looks low"]) { $1 }).status == 303)
        let returned = declarer.get(page)
        #expect(returned.body.contains("returned to the practice") && returned.body.contains("CHOL003 looks low"))
        #expect(returned.body.contains("id=\"declare-form\""), "the practice may declare again")

        // Declared again and approved.
        #expect(declarer.post("/practice/\(ods)/declaration", declare).status == 303)
        let sha2 = try #require(Self.field("sha", in: approver.get(page).body))
        #expect(approver.post("/practice/\(ods)/declaration", approve.merging(["csrf": approverCSRF, "sha": sha2]) { $1 }).status == 303)
        #expect(approver.get(page).body.contains("id=\"state\">approved"))
        #expect(approver.post("/practice/\(ods)/declaration", approve.merging(["csrf": approverCSRF, "sha": sha2]) { $1 }).status == 409,
                "approving twice is refused by the workflow")
        #expect(!approver.get("/").body.contains("/practice/\(ods)/declaration?ruleset=qof-2025-26&amp;date=\(date)"))

        // The audit log holds every step under the web user's name, with the snapshot hash.
        let conn = try await PostgresConnection.connect(f.conninfo)
        let trail = try await conn.withTransaction { c in try DeclarationStore.auditTrail(practice: ods, in: c) }
        await conn.close()
        let steps = trail.filter { ["declare", "approve", "return"].contains($0.action) && $0.ruleset == "qof-2025-26" }
        #expect(steps.map(\.action) == ["declare", "return", "declare", "approve"])
        #expect(steps.map(\.actor) == ["declarer2", "approver", "declarer2", "approver"])
        #expect(steps.allSatisfy { $0.sha256?.count == 64 })
        #expect(trail.contains { $0.action == "web-refused-declare" && $0.actor == "practice2" })
    }

    @Test("an account holds the declare or the approve right, never both, and only the role that fits it")
    func rightsAreSeparate() async throws {
        let f = try await WebFixture.shared.value
        let conn = try await PostgresConnection.connect(f.conninfo)
        for (role, scope, right) in [(WebAccounts.Role.practice, f.practices[0], WebAccounts.DeclarationRight.approve),
                                     (.commissioner, nil, .declare)] as [(WebAccounts.Role, String?, WebAccounts.DeclarationRight)] {
            await #expect(throws: (any Error).self, "\(role) with \(right)") {
                try await conn.withTransaction { c in
                    try WebAccounts.save(.init(username: "mixed", role: role, scope: scope, patientAccess: false, right: right, passwordHash: nil), in: c)
                }
            }
        }
        await conn.close()
        let p = Process()
        p.executableURL = qofdExecutable()
        p.arguments = ["user", "add", "mixed", "--role", "practice", "--scope", f.practices[0], "--right", "approve", "--database-url", f.conninfo]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0 && message.contains("only a commissioner may approve"))
    }
}

extension DeclaringOnTheWebTests {
    @Test("the PCN page shows the PCN's DES figures with each practice's counts; the PCN's nominated person declares them and a commissioner approves")
    func pcnDeclaresTheDES() async throws {
        let f = try await WebFixture.shared.value
        let page = "/pcn/\(f.pcn)/declaration?ruleset=des-2025-26"
        let lead = try Session(f, user: "pcnlead")
        let pcnPage = lead.get("/pcn/\(f.pcn)")
        #expect(pcnPage.status == 200 && pcnPage.body.contains("id=\"pcn-des\"") && pcnPage.body.contains("id=\"des-unverified\""))
        #expect(f.practices.allSatisfy { pcnPage.body.contains("(\($0))</th>") }, "each member practice's column")
        #expect(pcnPage.body.contains("CAN-04") && pcnPage.body.contains("HI-03"))
        // A PCN lead without the declare right sees who may declare; the PCN's nominated person declares.
        #expect(lead.get(page).body.contains("id=\"who-declares\""))
        let declarer = try Session(f, user: "pcndeclarer")
        let form = declarer.get(page)
        #expect(form.status == 200 && form.body.contains("id=\"declare-form\""))
        let fields = ["csrf", "run", "achievement_date"].compactMap { name in Self.field(name, in: form.body).map { (name, $0) } }
        var declare = Dictionary(uniqueKeysWithValues: fields).merging(["action": "declare", "ruleset": "des-2025-26"]) { $1 }
        if form.body.contains("id=\"accept_incomplete\"") { declare["accept_incomplete"] = "yes" }
        #expect(declarer.post("/pcn/\(f.pcn)/declaration", declare).status == 303)
        #expect(declarer.get(page).body.contains("awaiting commissioner approval"))
        // A practice's declarer cannot declare the PCN's DES, nor their own practice's DES figures.
        let practiceDeclarer = try Session(f, user: "declarer2")
        #expect(practiceDeclarer.get(page).status == 403)
        let approver = try Session(f, user: "approver")
        #expect(approver.get("/").body.contains("/pcn/\(f.pcn)/declaration?ruleset=des-2025-26"))
        let sha = try #require(Self.field("sha", in: approver.get(page).body))
        let approve = ["csrf": try #require(approver.csrf()), "action": "approve", "ruleset": "des-2025-26", "achievement_date": declare["achievement_date"]!, "sha": sha]
        #expect(approver.post("/pcn/\(f.pcn)/declaration", approve).status == 303)
        #expect(approver.get(page).body.contains("id=\"state\">approved"))
        let conn = try await PostgresConnection.connect(f.conninfo)
        let trail = try await conn.withTransaction { c in try DeclarationStore.auditTrail(practice: f.pcn, in: c) }
        await conn.close()
        #expect(trail.filter { ["declare", "approve"].contains($0.action) }.map(\.actor) == ["pcndeclarer", "approver"])
    }
}
