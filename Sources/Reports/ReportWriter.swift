import Clinical
import Foundation
import Postgres
import RulesEngine

/// The report formats.
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, csv, json, fhir, cqrs

    var fileExtension: String {
        switch self {
        case .fhir: return "fhir.json"
        case .cqrs: return "cqrs.csv"
        default: return rawValue
        }
    }
}

/// Writes a practice's reports into `<directory>/<ODS>/<ruleset>-<date>.<ext>`, each file atomically
/// (temporary file, then rename), so a reader never sees half a report.
public enum ReportWriter {
    @discardableResult
    public static func write(_ d: ReportData, formats: [ReportFormat], to directory: URL) throws -> [URL] {
        let folder = directory.appending(path: d.practice)
        // The folder almost always exists already: one mkdir says so without FileManager's walk up the path.
        if mkdir(folder.path, 0o755) != 0, errno != EEXIST {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        return try formats.map { format in
            let data: Data = switch format {
            case .html: Data(ReportRenderer.html(d).utf8)
            case .csv: Data(ReportRenderer.csv(d).utf8)
            case .json: ReportRenderer.json(d)
            case .fhir: ReportRenderer.fhir(d)
            case .cqrs: Data(ReportRenderer.cqrs(d).utf8)
            }
            let suffix = (d.snapshotSHA256 == nil ? "" : "-declared") + (d.subjects == nil ? "" : "-subjects")
            let url = folder.appending(path: "\(d.ruleset)-\(d.achievementDate)\(suffix).\(format.fileExtension)")
            let temporary = folder.appending(path: ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
            try data.write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            return url
        }
    }

    /// Reports for every practice with a run for the ruleset and date.
    public static func practices(ruleset: String, achievementDate: Day, in conn: isolated PostgresConnection) throws -> [String] {
        let d = PostgresDate(achievementDate)
        return try conn.query(
            "SELECT DISTINCT practice_ods FROM computation_run WHERE ruleset_id = \(ruleset) AND achievement_date = \(d) ORDER BY 1"
        ).map { try $0.decode(0, as: String.self) }
    }
}
