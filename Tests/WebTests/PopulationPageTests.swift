import Foundation
import Postgres
import Testing
import TestSupport

/// The population health pages read the summaries stored with each extract: the practice's own page shows
/// its counts as stored; the PCN's adds its members and suppresses small numbers; the QRISK3 disclaimer and
/// "population use only" are on the page.
@Suite("Population health pages")
struct PopulationPageTests {
    @Test("the practice page shows the stored list size and segments; the PCN page is suppressed; the QRISK3 disclaimer is shown")
    func pages() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let conn = try await PostgresConnection.connect(f.conninfo)
        let stored = try await conn.query(
            "SELECT list_size FROM population_run WHERE practice_ods = \(ods) ORDER BY as_of DESC, id DESC LIMIT 1")[0].decode(0, as: Int.self)
        await conn.close()
        let practice = try Session(f, user: "practice1").get("/practice/\(ods)/population")
        #expect(practice.status == 200 && practice.body.contains("id=\"list-size\">\(stored)<"))
        #expect(practice.body.contains("id=\"segments\"") && practice.body.contains("Generally well") && practice.body.contains("id=\"qrisk-disclaimer\""))
        #expect(practice.body.contains("https://qrisk.org") && practice.body.contains("not for an individual"))
        #expect(!practice.body.contains("id=\"suppression\""), "a practice sees its own counts")
        let pcn = try Session(f, user: "pcnlead").get("/pcn/\(f.pcn)/population")
        #expect(pcn.status == 200 && pcn.body.contains("id=\"suppression\"") && pcn.body.contains("id=\"frailty\""))
        #expect(try Session(f, user: "practice2").get("/practice/\(ods)/population").status == 403)
    }
}

extension PopulationPageTests {
    @Test("cohorts to act on: counts for the practice, the patients with why for patient access (audited), CSV export; refused without access")
    func cohorts() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let s = try Session(f, user: "practice1")
        let list = s.get("/practice/\(ods)/cohorts")
        #expect(list.status == 200 && list.body.contains("id=\"cohorts\"") && list.body.contains("/practice/\(ods)/cohort/qrisk3-no-statin"))
        let page = s.get("/practice/\(ods)/cohort/qrisk3-no-statin")
        #expect(page.status == 200 && page.body.contains("id=\"cohort\"") && page.body.contains("qrisk.org"))
        let count = Int(page.body.range(of: #"<p>(\d+) patients on"#, options: .regularExpression).map { page.body[$0].dropFirst(3).prefix { $0.isNumber } } ?? "") ?? -1
        let csv = s.get("/practice/\(ods)/cohort/qrisk3-no-statin/patients.csv")
        #expect(csv.status == 200 && csv.body.hasPrefix("\u{FEFF}patient_id,nhs_number,date_of_birth,age,cohort,why"))
        #expect(csv.body.split(separator: "\r\n").count - 1 == count, "the export holds every patient the page counts")
        #expect(try Session(f, user: "practice2").get("/practice/\(ods)/cohort/qrisk3-no-statin").status == 403)
        #expect(s.get("/practice/\(ods)/cohort/no-such-cohort").status == 404)
        let conn = try await PostgresConnection.connect(f.conninfo)
        let audited = try await conn.query("SELECT count(*) FROM audit_log WHERE actor = 'practice1' AND action IN ('web-view-cohort', 'web-export-cohort')")[0]
            .decode(0, as: Int.self)
        await conn.close()
        #expect(audited >= 2)
    }

    @Test("every cohort's count is the one stored with the extract, as the members page lists them; case finding says what coding them is worth")
    func storedCounts() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let s = try Session(f, user: "practice1")
        let conn = try await PostgresConnection.connect(f.conninfo)
        let stored = try await conn.query(
            """
            SELECT c.category, c.value FROM population_count c JOIN population_run r ON r.id = c.run_id
            WHERE r.practice_ods = \(ods) AND c.measure = 'cohort' AND c.dimension = 'all'
              AND r.id = (SELECT id FROM population_run WHERE practice_ods = \(ods) ORDER BY as_of DESC, id DESC LIMIT 1)
            """).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self)) }
        await conn.close()
        let counts = Dictionary(uniqueKeysWithValues: stored)
        #expect(counts["gap-no-ethnicity"] != nil && counts["possible-hypertension"] != nil)
        let list = s.get("/practice/\(ods)/cohorts")
        #expect(list.body.contains("Share of the list") && list.body.contains("People the data misses"))
        for id in ["qrisk3-no-statin", "possible-hypertension", "gap-no-blood-pressure"] {
            let page = s.get("/practice/\(ods)/cohort/\(id)")
            let listed = Int(page.body.range(of: #"<p>(\d+) patients on"#, options: .regularExpression).map { page.body[$0].dropFirst(3).prefix { $0.isNumber } } ?? "") ?? -1
            #expect(listed == counts[id], "\(id): the members page and the stored count agree")
        }
        if (counts["possible-hypertension"] ?? 0) > 0 {
            #expect(list.body.contains("If all were confirmed and coded: HYP_REG"), "case finding shows the register it would add to")
        }
        // The population page: the people the data misses, with the PCN's share and a breakdown by group.
        let population = s.get("/practice/\(ods)/population")
        #expect(population.body.contains("id=\"data-gaps\"") && population.body.contains("No ethnicity recorded")
                && population.body.contains("Missing from the data by IMD quintile"))
        // The PCN's cohorts page: every practice and the PCN, suppressed.
        let pcn = try Session(f, user: "pcnlead").get("/pcn/\(f.pcn)/cohorts")
        #expect(pcn.status == 200 && pcn.body.contains("id=\"pcn-cohorts\"") && pcn.body.contains(ods))
        let cells = pcn.body.matches(of: #/<td class="n">([0-9*]+)<div/#).map { String($0.1) }
        #expect(!cells.isEmpty && cells.allSatisfy { $0 == "*" || Int($0)! % 5 == 0 }, "suppressed beyond the practice")
        #expect(try Session(f, user: "practice1").get("/pcn/\(f.pcn)/cohorts").status == 403)
    }
}
