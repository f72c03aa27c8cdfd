import Daemon
import Foundation
import Logging
import Testing
import TestSupport

/// Start-up and national figures: a ruleset without a figures file is run without pounds; a broken figures file
/// stops start-up, naming the option, the file and the line, instead of storing every run without pounds.
@Suite("National figures at start-up")
struct NationalFiguresStartupTests {
    @Test("a broken national figures file stops start-up naming it; an absent one does not")
    func brokenStopsStartup() throws {
        let state = TestFolders.make("national-startup")
        let national = state.appending(path: "national")
        try FileManager.default.createDirectory(at: national, withIntermediateDirectories: true)
        var c = DaemonConfiguration(stateDirectory: state.path)
        c.nationalDirectory = national.path
        c.rulesets = ["qof-2025-26", "flu-2025-26"]
        // Absent here: the shipped figures are used for QOF; flu has none and is stored without pounds.
        let processor = try ExtractProcessor.make(c, worker: "t", logger: Logger(label: "t"))
        #expect(processor.nationalFigures["qof-2025-26"] != nil && processor.nationalFigures["flu-2025-26"] == nil)

        try Data("point_value: {pounds: 225.49}\naverage_list_size: {patients: 9000}\naspiration_percent:\n  percent: eighty\n".utf8)
            .write(to: national.appending(path: "qof-2025-26.yaml"))
        do {
            _ = try ExtractProcessor.make(c, worker: "t", logger: Logger(label: "t"))
            Issue.record("a broken figures file must stop start-up")
        } catch let error as ConfigurationError {
            #expect("\(error)".contains("national_dir") && "\(error)".contains("qof-2025-26.yaml line 4"), "\(error)")
        }
    }
}
