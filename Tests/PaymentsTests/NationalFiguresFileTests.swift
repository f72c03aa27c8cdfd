import Foundation
import Payments
import Testing
import TestSupport

/// A missing national-figures file and a broken one are different things: the first means "no pounds for this
/// ruleset", the second must be fixed before anything is paid.
@Suite("National figures files: absent or broken")
struct NationalFiguresFileTests {
    @Test("no file for a ruleset is nil, not an error; a broken one names the file and the line")
    func absentOrBroken() throws {
        let dir = TestFolders.make("national")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        #expect(try NationalFigures.loadIfPresent(year: "nothing-2030-31", directory: dir) == nil)
        #expect(throws: PaymentError.self) { try NationalFigures.load(year: "nothing-2030-31", directory: dir) }

        try Data("year: qof-2025-26\npoint_value: {pounds: [\n".utf8).write(to: dir.appending(path: "qof-2025-26.yaml"))
        do {
            _ = try NationalFigures.loadIfPresent(year: "qof-2025-26", directory: dir)
            Issue.record("a broken file must not load")
        } catch let error as PaymentError {
            #expect(error.description.hasPrefix("qof-2025-26.yaml: not valid YAML"), "\(error)")
            #expect(error.description.contains("3:"), "names the line: \(error)")
        }

        try Data("year: qof-2025-26\npoint_value: {pounds: 225.49}\naverage_list_size:\n  patients: lots\naspiration_percent: {percent: 80}\n".utf8)
            .write(to: dir.appending(path: "qof-2025-26.yaml"))
        do {
            _ = try NationalFigures.loadIfPresent(year: "qof-2025-26", directory: dir)
            Issue.record("a figure that is not a number must not load")
        } catch let error as PaymentError {
            #expect(error.description == "qof-2025-26.yaml line 4: average_list_size.patients must be a number", "\(error)")
        }
        // The shipped figures are there for the shipped QOF rulesets.
        #expect(try NationalFigures.loadIfPresent(year: "qof-2025-26") != nil)
    }
}
