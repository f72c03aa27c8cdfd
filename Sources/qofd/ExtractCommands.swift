import ArgumentParser
import Clinical
import Extracts
import Foundation

/// `qofd extract …`: work with clinical extracts.
struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract", abstract: "Check clinical extracts.", subcommands: [Check.self])

    /// `qofd extract check DIR`: validates an extract and prints a summary.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate an extract directory and print a summary; exits non-zero when it would be rejected.")

        @Argument(help: ArgumentHelp("Extract directories (each holding manifest.json).", valueName: "dir"))
        var directories: [String]

        @Option(help: "Largest share of rows with problems before the extract is rejected (0 to 1).")
        var maxRowProblems: Double = 0.01

        @Option(help: "Row problems listed per file before only counting them.")
        var listLimit: Int = 20

        @Flag(help: "Print the error report as JSON.")
        var json = false

        func run() throws {
            let loader = ExtractLoader(maxRowProblemFraction: maxRowProblems, problemsListedPerFile: listLimit)
            var rejected = 0
            for path in directories {
                let check = loader.load(URL(fileURLWithPath: path))
                if check.isRejected { rejected += 1 }
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(ErrorReport(check)), as: UTF8.self))
                    continue
                }
                print(summary(check))
            }
            if rejected > 0 { throw ExitCode(1) }
        }

        func summary(_ check: ExtractCheck) -> String {
            var lines: [String] = []
            let m = check.manifest
            lines.append("Extract \(check.directory.path)")
            if let m {
                lines.append("  practice      \(m.practice.ods) \(m.practice.name)\(m.pcn.map { " (PCN \($0.ods) \($0.name))" } ?? "")")
                lines.append("  system        \(m.system), \(m.encoding.rawValue), data to \(m.dataTo)")
            }
            if let sha = check.sha256 { lines.append("  sha256        \(sha)") }
            if let p = check.population {
                let registered = (0..<p.patientCount).filter { p.isRegisteredAndAlive($0, on: p.dataTo) }.count
                lines.append("  patients      \(p.patientCount) (\(registered) registered and alive on \(p.dataTo))")
                lines.append("  registrations \(p.registrations.count)")
                lines.append("  events        \(p.events.count)")
                lines.append("  medications   \(p.medications.count)")
                let dates = p.events.map(\.date) + p.medications.map(\.date)
                if let first = dates.min(), let last = dates.max() { lines.append("  date range    \(first) to \(last)") }
            }
            let report = ErrorReport(check)
            lines.append("")
            lines.append(report.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            return lines.joined(separator: "\n")
        }
    }
}
