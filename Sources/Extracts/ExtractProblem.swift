import Foundation

/// One thing wrong with an extract, located as precisely as possible.
///
/// `row` problems drop that row (they are counted and listed); `file` problems reject the whole
/// extract. Reasons name the column and the rule, never the value of an identifier.
public struct ExtractProblem: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable {
        /// The row is left out; the extract can still be used.
        case row
        /// The extract is rejected and quarantined.
        case file
    }

    public var severity: Severity
    public var file: String
    /// 1-based line (CSV) or record number (NDJSON); nil when the problem is about the whole file.
    public var line: Int?
    /// Column name (CSV) or JSON path (NDJSON), when known.
    public var column: String?
    public var reason: String

    public init(_ severity: Severity, file: String, line: Int? = nil, column: String? = nil, reason: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += " [\(column)]" }
        return "\(place): \(reason)"
    }
}

/// Collects problems, listing up to `limit` row problems per file and counting the rest.
public struct ProblemLog: Sendable {
    public private(set) var listed: [ExtractProblem] = []
    public private(set) var rowProblemCounts: [String: Int] = [:]
    public let limitPerFile: Int

    public init(limitPerFile: Int = 100) { self.limitPerFile = limitPerFile }

    public mutating func add(_ problem: ExtractProblem) {
        if problem.severity == .row {
            let n = rowProblemCounts[problem.file, default: 0] + 1
            rowProblemCounts[problem.file] = n
            if n > limitPerFile { return }
        }
        listed.append(problem)
    }

    public mutating func row(_ file: String, line: Int, column: String? = nil, _ reason: String) {
        add(ExtractProblem(.row, file: file, line: line, column: column, reason: reason))
    }

    public mutating func file(_ file: String, line: Int? = nil, column: String? = nil, _ reason: String) {
        add(ExtractProblem(.file, file: file, line: line, column: column, reason: reason))
    }

    public var fileProblems: [ExtractProblem] { listed.filter { $0.severity == .file } }
    public var rowProblemTotal: Int { rowProblemCounts.values.reduce(0, +) }
    public var isRejected: Bool { listed.contains { $0.severity == .file } }

    /// Row problems counted but not listed, per file.
    public var unlisted: [String: Int] { rowProblemCounts.filter { $0.value > limitPerFile }.mapValues { $0 - limitPerFile } }
}
