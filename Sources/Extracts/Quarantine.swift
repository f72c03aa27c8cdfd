import Foundation

/// Moves a rejected extract out of the inbox, whole, with its error report beside it.
///
/// The extract directory is renamed (never copied and deleted, so it is never half-moved) into
/// `<quarantine>/<name>` (a suffix is added if that name is taken), and two reports are written
/// next to its files: `errors.json` for machines and `errors.txt` for people.
public enum Quarantine {
    /// - Returns: where the extract now is.
    @discardableResult
    public static func move(_ check: ExtractCheck, to quarantine: URL) throws -> URL {
        let fm = FileManager.default
        try fm.createDirectory(at: quarantine, withIntermediateDirectories: true)
        let name = check.directory.lastPathComponent
        var target = quarantine.appending(path: name)
        var n = 1
        while fm.fileExists(atPath: target.path) {
            n += 1
            target = quarantine.appending(path: "\(name).\(n)")
        }
        try fm.moveItem(at: check.directory, to: target)
        let report = ErrorReport(check)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(report).write(to: target.appending(path: "errors.json"), options: .atomic)
        try Data(report.text.utf8).write(to: target.appending(path: "errors.txt"), options: .atomic)
        return target
    }
}

/// The machine-readable error report of a checked extract.
public struct ErrorReport: Codable, Sendable {
    public var extract: String
    public var sha256: String?
    public var practice: String?
    public var rejected: Bool
    public var problems: [ExtractProblem]
    /// Row problems counted but not listed, per file.
    public var unlistedRowProblems: [String: Int]

    public init(_ check: ExtractCheck) {
        extract = check.directory.lastPathComponent
        sha256 = check.sha256
        practice = check.manifest?.practice.ods
        rejected = check.isRejected
        problems = check.problems.listed
        unlistedRowProblems = check.problems.unlisted
    }

    /// The same report for a person.
    public var text: String {
        var lines = ["Extract \(extract)\(practice.map { " from practice \($0)" } ?? "")"]
        lines.append(rejected ? "REJECTED: the extract was not loaded." : "Accepted.")
        let fileProblems = problems.filter { $0.severity == .file }
        if !fileProblems.isEmpty {
            lines.append("")
            lines.append("Problems that reject the extract:")
            lines += fileProblems.map { "  - \($0)" }
        }
        let rowProblems = problems.filter { $0.severity == .row }
        if !rowProblems.isEmpty {
            lines.append("")
            lines.append("Rows left out:")
            lines += rowProblems.map { "  - \($0)" }
            for (file, n) in unlistedRowProblems.sorted(by: { $0.key < $1.key }) {
                lines.append("  - \(file): \(n) more rows left out (not listed)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
