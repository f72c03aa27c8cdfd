import Foundation
import Postgres
import Testing
import TestSupport

/// Recording an intervention from a worklist on the web: patient access and a fresh form needed, audited, then
/// listed and shown with its arms (the latest run has no later extract yet, and the page says so), as CSV too.
@Suite("Interventions on the web")
struct InterventionPageTests {
    @Test("recorded from the worklist as shown (first N), audited, listed, shown and exported; refused without patient access or a fresh form")
    func recordFromWorklist() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let s = try Session(f, user: "practice1")
        let worklist = s.get("/practice/\(ods)/indicator/HYP008?ruleset=qof-2025-26&sort=pounds")
        #expect(worklist.status == 200 && worklist.body.contains("id=\"intervention-form\""))
        let csrf = try #require(s.csrf())
        let fields = ["csrf": csrf, "ruleset": "qof-2025-26", "q": "", "missing": "", "sort": "pounds", "first": "5",
                      "name": "Text recall for blood pressure", "what": "A text with a booking link"]
        #expect(s.post("/practice/\(ods)/indicator/HYP008/intervention", fields.merging(["csrf": "stale"]) { _, b in b }).status == 403)
        let refused = try Session(f, user: "practice2").post("/practice/\(ods)/indicator/HYP008/intervention", fields)
        #expect(refused.status == 403, "another practice's account, without patient access")
        let created = s.post("/practice/\(ods)/indicator/HYP008/intervention", fields)
        #expect(created.status == 303)
        let list = s.get("/practice/\(ods)/interventions")
        #expect(list.status == 200 && list.body.contains("Text recall for blood pressure"))
        let id = try #require(list.body.firstMatch(of: #/intervention/(\d+)">Text recall for blood pressure/#).map { String($0.1) })
        let page = s.get("/practice/\(ods)/intervention/\(id)")
        #expect(page.status == 200 && page.body.contains("No later extract yet"), "frozen from the latest run: nothing to follow yet")
        #expect(page.body.contains("5 patients acted on") && page.body.contains("the first 5 by most pounds for one contact"))
        let csv = s.get("/practice/\(ods)/intervention/\(id)/results.csv")
        #expect(csv.status == 200 && csv.body.hasPrefix("\u{FEFF}intervention,name,indicator,data_to,dimension,group,cohort_n"))
        #expect(s.get("/practice/\(ods)/intervention/999999").status == 404)
        let conn = try await PostgresConnection.connect(f.conninfo)
        let audited = try await conn.query(
            "SELECT count(*) FROM audit_log WHERE actor = 'practice1' AND action = 'web-create-intervention' AND details->>'intervention' = \(id)")[0]
            .decode(0, as: Int.self)
        let arms = try await conn.query(
            "SELECT count(*) FILTER (WHERE arm = 'intervention'), count(*) FILTER (WHERE arm = 'comparison') FROM intervention_member WHERE intervention_id = \(id)")[0]
        await conn.close()
        #expect(audited == 1)
        #expect(try arms.decode(0, as: Int.self) == 5 && arms.decode(1, as: Int.self) > 0)
    }

    @Test("recorded from a cohort's list: the rest of the cohort is the comparison, and leaving the cohort counts as reached")
    func recordFromCohort() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let s = try Session(f, user: "practice1")
        let cohortPage = s.get("/practice/\(ods)/cohort/gap-no-blood-pressure")
        #expect(cohortPage.status == 200 && cohortPage.body.contains("id=\"intervention-form\""))
        let csrf = try #require(s.csrf())
        let created = s.post("/practice/\(ods)/cohort/gap-no-blood-pressure/intervention",
                             ["csrf": csrf, "name": "Blood pressure at the flu clinic", "what": "Checked while there", "first": "4"])
        #expect(created.status == 303)
        let list = s.get("/practice/\(ods)/interventions")
        let id = try #require(list.body.firstMatch(of: #/intervention/(\d+)">Blood pressure at the flu clinic/#).map { String($0.1) })
        let page = s.get("/practice/\(ods)/intervention/\(id)")
        #expect(page.body.contains("4 patients acted on") && page.body.contains("no longer in the cohort") && page.body.contains("the rest of the same cohort"))
        #expect(try Session(f, user: "practice2").post("/practice/\(ods)/cohort/gap-no-blood-pressure/intervention", ["csrf": csrf, "name": "x"]).status == 403)
    }
}
