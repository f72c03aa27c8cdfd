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
