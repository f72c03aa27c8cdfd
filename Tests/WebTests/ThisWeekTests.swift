import Foundation
import Testing
import TestSupport

/// This week's work: patients ranked by what one contact would earn across the indicators they are open in,
/// from the stored run; aggregates only without patient access.
@Suite("This week's work")
struct ThisWeekTests {
    /// The text of each cell of each row of the table with `id` (the first piece of text in the cell).
    func rows(_ html: String, table id: String) -> [[String]] {
        guard let start = html.range(of: "<table tabindex=\"0\" id=\"\(id)\">") else { return [] }
        let body = html[start.upperBound...].components(separatedBy: "</table>")[0]
        let cell = try! NSRegularExpression(pattern: "<t[hd][^>]*>(.*?)</t[hd]>", options: [.dotMatchesLineSeparators])
        let tag = try! NSRegularExpression(pattern: "<[^>]*>")
        return body.components(separatedBy: "<tr>").dropFirst(2).map { row in
            cell.matches(in: row, range: NSRange(row.startIndex..., in: row)).map { m in
                let inner = String(row[Range(m.range(at: 1), in: row)!])
                let pieces = tag.stringByReplacingMatches(in: inner, range: NSRange(inner.startIndex..., in: inner), withTemplate: "\n")
                return pieces.components(separatedBy: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? ""
            }
        }
    }

    @Test("patients come ranked by their worth, which is the sum of their indicators' pounds per patient; no patients without patient access")
    func ranked() async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let page = try Session(f, user: "practice1").get("/practice/\(ods)/this-week")
        #expect(page.status == 200)
        let values = rows(page.body, table: "indicator-values")
        #expect(!values.isEmpty, "some indicator still has pounds at stake")
        let perPatient = Dictionary(uniqueKeysWithValues: values.map { ($0[0], Double($0[3].dropFirst().replacingOccurrences(of: ",", with: "")) ?? -1) })
        let patients = rows(page.body, table: "this-week")
        #expect(!patients.isEmpty)
        let worth = patients.map { Double($0[5].dropFirst().replacingOccurrences(of: ",", with: "")) ?? -1 }
        #expect(worth == worth.sorted(by: >), "highest worth first")
        for p in patients.prefix(10) {
            let sum = p[4].components(separatedBy: ", ").map { perPatient[$0] ?? .nan }.reduce(0, +)
            let shown = Double(p[5].dropFirst().replacingOccurrences(of: ",", with: "")) ?? -1
            #expect(abs(sum - shown) <= 0.01 * Double(p[4].components(separatedBy: ", ").count) + 0.01, "\(p[0]): worth is the sum over \(p[4])")
        }
        let commissioner = try Session(f, user: "commissioner").get("/practice/\(ods)/this-week")
        #expect(commissioner.status == 200 && rows(commissioner.body, table: "this-week").isEmpty && commissioner.body.contains("indicator-values"))
        #expect(try Session(f, user: "practice2").get("/practice/\(ods)/this-week").status == 403)
    }
}
