import Foundation
import Testing
import TestSupport

/// The daemon's declaration reports are practice figures: only signed-in users who may see the practice get
/// them, and nobody gets them anonymously (they used to be open to anyone who could reach the port).
@Suite("Reports behind sign-in")
struct ReportAccessTests {
    @Test("/reports: anonymous visitors are sent to sign in; users see and open only their practices' reports")
    func reportsNeedAccess() async throws {
        let f = try await WebFixture.shared.value
        let (a, b) = (f.practices[0], f.practices[1])
        let anonymous = try Session(f, user: nil)
        #expect(anonymous.get("/reports").status == 303)
        #expect(anonymous.get("/reports/\(a)/qof-2025-26-2026-03-31.html").status == 303)

        let practice1 = try Session(f, user: "practice1")
        let index = practice1.get("/reports")
        #expect(index.status == 200)
        #expect(index.body.contains("/reports/\(a)/qof-2025-26-2026-03-31.html"))
        #expect(!index.body.contains("/reports/\(b)/"), "another practice's reports are not listed")
        let own = practice1.get("/reports/\(a)/qof-2025-26-2026-03-31.html")
        #expect(own.status == 200 && own.body.contains("Quality and Outcomes Framework 2025/26"))
        #expect(practice1.get("/reports/\(b)/qof-2025-26-2026-03-31.html").status == 403)
        #expect(practice1.get("/reports/\(a)/..%2F..%2Fetc%2Fpasswd").status == 404)
        #expect(practice1.get("/reports/\(a)/no-such-report.html").status == 404)

        let commissioner = try Session(f, user: "commissioner")
        let all = commissioner.get("/reports")
        #expect(all.status == 200 && all.body.contains("/reports/\(a)/") && all.body.contains("/reports/\(b)/"))
    }
}

extension ReportAccessTests {
    @Test("an address nothing answers gets a 'page not found' page with a way home, signed in or not")
    func notFoundPage() async throws {
        let f = try await WebFixture.shared.value
        for user in [nil, "practice1"] as [String?] {
            let r = try Session(f, user: user).get("/no-such-page/at-all")
            #expect(r.status == 404)
            #expect(r.body.contains("Page not found") && r.body.contains("href=\"/\""), "\(user ?? "anonymous")")
        }
        #expect(curl(["-s", "\(f.url)/healthz"]).status == 200, "the daemon's own addresses still answer")
    }
}

/// A long worklist is read a page at a time, with NHS numbers as people read them.
@Suite("Worklist pages")
struct WorklistPagingTests {
    @Test("a long worklist comes 50 patients a page with previous and next links; every patient is on exactly one page")
    func paged() async throws {
        let f = try await WebFixture.shared.value
        let s = try Session(f, user: "practice1")
        let ods = f.practices[0]
        var checked = false
        for id in ["BP002", "CHOL003", "SMOK002", "HYP008", "DM020"] where !checked {
            let first = s.get("/practice/\(ods)/indicator/\(id)?ruleset=qof-2025-26")
            guard first.status == 200, let nav = first.body.range(of: "id=\"worklist-pages\"") else { continue }
            let summary = String(first.body[nav.upperBound...].prefix(300))
            guard let total = summary.range(of: #"of (\d+) ·"#, options: .regularExpression).flatMap({ Int(summary[$0].dropFirst(3).dropLast(2)) }) else { continue }
            #expect(summary.contains("Patients 1–50 of \(total)") && summary.contains("rel=\"next\""))
            var seen: [String] = []
            for page in 1...((total + 49) / 50) {
                let body = s.get("/practice/\(ods)/indicator/\(id)?ruleset=qof-2025-26&page=\(page)").body
                let table = String(body[body.range(of: "<table tabindex=\"0\" id=\"worklist\">")!.upperBound...].prefix { _ in true })
                let rows = table.components(separatedBy: "</table>")[0].components(separatedBy: "<tr><td>").dropFirst()
                seen += rows.map { String($0.prefix { $0 != "<" }) }
                #expect(rows.count == (page * 50 <= total ? 50 : total % 50), "page \(page)")
            }
            #expect(seen.count == total && Set(seen).count == total, "every patient once")
            checked = true
        }
        #expect(checked, "some indicator of the fixture has a worklist longer than a page")
    }
}

extension ReportAccessTests {
    @Test("the NHS.UK frontend stylesheet is served to anyone (the sign-in page uses it) and every page links it")
    func stylesheet() async throws {
        let f = try await WebFixture.shared.value
        let css = curl(["-s", "-D", "-", "\(f.url)/static/nhsuk-frontend-10.4.2.min.css"])
        #expect(css.status == 200 && css.body.lowercased().contains("content-type: text/css") && css.body.contains("--nhsuk-frontend-version:\"10.4.2\""))
        let login = try Session(f, user: nil).get("/login")
        #expect(login.body.contains("href=\"/static/nhsuk-frontend-10.4.2.min.css\"") && login.body.contains("class=\"nhsuk-header\""))
    }
}

/// A worklist is read in the order that gets most done, and narrowed to one gap.
@Suite("Worklist order and filter")
struct WorklistOrderTests {
    /// The worklist table's rows, each as its cells' text.
    static func rows(_ body: String) -> [[String]] {
        guard let start = body.range(of: "<table tabindex=\"0\" id=\"worklist\">") else { return [] }
        let table = body[start.upperBound...].components(separatedBy: "</table>")[0]
        return table.components(separatedBy: "<tr><td>").dropFirst().map { row in
            ("<td>" + row).components(separatedBy: "</td>").dropLast().map { cell in
                cell.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
            }
        }
    }

    @Test("by default most pounds for one contact first; by risk the stored frailty then QRISK3 first; the CSV keeps the order; a gap filter keeps only that gap")
    func orderedAndFiltered() async throws {
        let f = try await WebFixture.shared.value
        let s = try Session(f, user: "practice1")
        let ods = f.practices[0]
        var checked = 0
        for id in ["HYP008", "BP002", "DM020", "SMOK002"] {
            let page = s.get("/practice/\(ods)/indicator/\(id)?ruleset=qof-2025-26")
            let rows = Self.rows(page.body)
            guard page.status == 200, rows.count > 5 else { continue }
            // Columns: patient, NHS number, born, age, sex, missing, facts, by, worth, open in, risk, explain.
            let worth = rows.map { Double($0[8].dropFirst().replacingOccurrences(of: ",", with: "")) ?? -1 }
            #expect(worth == worth.sorted(by: >), "\(id): most pounds first")
            #expect(worth.allSatisfy { $0 >= 0 })
            let risk = Self.rows(s.get("/practice/\(ods)/indicator/\(id)?ruleset=qof-2025-26&sort=risk").body)
            // The stored frailty (severe first, recorded or estimated alike), then the computed QRISK3.
            let levels = ["fit": 1, "mild frailty": 2, "moderate frailty": 3, "severe frailty": 4]
            let keys = risk.map { row -> [Double] in
                let level = levels.first { row[10].hasPrefix($0.key + " (") }?.value ?? 0
                let score = row[10].range(of: #"QRISK3 [0-9.]+"#, options: .regularExpression).map { Double(row[10][$0].dropFirst(7)) ?? -1 } ?? -1
                return [Double(level), score]
            }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { !$0.lexicographicallyPrecedes($1) }, "\(id): highest stored risk first")
            #expect(risk.contains { !$0[10].isEmpty }, "\(id): the stored risk is shown")
            #expect(Set(risk.map { $0[0] }).count == risk.count)

            let csv = s.get("/practice/\(ods)/indicator/\(id)/worklist.csv?ruleset=qof-2025-26&sort=pounds")
            let lines = csv.body.split(separator: "\r\n").dropFirst()
            let csvWorth = lines.map { Double($0.split(separator: ",", omittingEmptySubsequences: false).dropLast().last ?? "") ?? -1 }
            #expect(csvWorth == csvWorth.sorted(by: >) && csvWorth.count >= rows.count, "\(id): the export has every patient in the same order")

            // The gap filter's choices come with counts; choosing one keeps only that gap's patients.
            guard let option = page.body.range(of: #"<option value="(not yet[^"]*)">[^<]*\((\d+)\)</option>"#, options: .regularExpression) else { continue }
            let text = String(page.body[option])
            let value = String(text.split(separator: "\"")[1]).replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            let count = Int(text.components(separatedBy: "(").last!.prefix { $0.isNumber })!
            let narrowed = s.get("/practice/\(ods)/indicator/\(id)?ruleset=qof-2025-26&missing=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            let kept = Self.rows(narrowed.body)
            #expect(kept.count == min(50, count), "\(id): \(value)")
            #expect(kept.allSatisfy { $0[5].replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&") == value })
            checked += 1
        }
        #expect(checked >= 1, "some indicator of the fixture has a worklist to order")
    }
}
