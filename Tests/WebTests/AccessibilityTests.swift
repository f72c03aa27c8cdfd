import Foundation
import Testing
import TestSupport

/// Every page of the web view, as the accounts that see it, at a desktop width (1366 px) and a phone width
/// (390 px): axe-core finds no serious or critical accessibility problem, and no page is wider than the
/// screen (wide tables scroll inside the page instead).
@Suite("Accessibility of every page")
struct AccessibilityTests {
    @Test("axe-core reports no serious or critical violation on any page at 1366 px or 390 px, and nothing overflows the screen")
    func everyPage() async throws {
        let f = try await WebFixture.shared.value
        let (status, data, errors) = try runBrowserScript(
            "accessibility_check", [f.url, f.password, f.practices[0], f.practices[1], f.pcn, f.base.appending(path: "accessibility").path])
        try #require(status == 0, "accessibility check failed: \(errors.suffix(3000))")
        let findings = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let visits = findings["visits"] as? [[String: Any]] ?? []
        #expect(visits.count >= 50, "every page at both widths (\(visits.count) visits)")
        #expect(Set(visits.compactMap { $0["width"] as? Int }) == [1366, 390])
        for v in visits {
            let page = "\(v["page"] ?? "?") at \(v["width"] ?? "?") px"
            let violations = v["violations"] as? [[String: Any]] ?? []
            let grave = violations.filter { ["serious", "critical"].contains($0["impact"] as? String ?? "") }
            #expect(grave.isEmpty, "\(page): \(grave.map { "\($0["id"] ?? "") (\($0["impact"] ?? "")): \($0["help"] ?? "") — \($0["targets"] ?? "")" })")
            #expect((v["overflow"] as? Int ?? 0) <= 1, "\(page) is \(v["overflow"] ?? 0) px wider than the screen")
            #expect((v["title"] as? String ?? "").hasSuffix("– qofd"), "\(page) has a title")
        }
        // Pages of interest were really reached (not a sign-in page in their place).
        let titles = Dictionary(visits.map { ("\($0["page"] ?? "")", $0["title"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(titles["declaration-declarer"]?.hasPrefix("Declaration of") == true, "\(titles)")
        #expect(titles["pcn"]?.contains("Sign in") == false && titles["indicator"]?.hasPrefix("HYP008") == true)
        #expect(titles["not-found"]?.hasPrefix("Page not found") == true)
        #expect(titles["intervention"]?.hasPrefix("Accessibility check recall") == true, "the intervention form works in a browser")
    }
}
