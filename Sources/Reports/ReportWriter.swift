import Clinical
import Foundation
import RulesEngine
import Synchronization

/// The report formats.
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, csv, json, fhir, cqrs

    public var fileExtension: String {
        switch self {
        case .fhir: return "fhir.json"
        case .cqrs: return "cqrs.csv"
        default: return rawValue
        }
    }
}

/// Writes a practice's reports into `<directory>/<ODS>/<ruleset>-<date>.<ext>`, each file atomically
/// (temporary file, then rename), so a reader never sees half a report.
///
/// Report files are not forced to disk one by one (`fsync`, which Foundation's `Data.write` does for
/// every file, made ten synchronous disk writes per extract): they are a rendering of results already
/// committed to PostgreSQL, rewritten by every run and by `qofd report`. After a power cut a report
/// written in the last seconds may be missing or empty; the daemon's start-up check rewrites those.
public enum ReportWriter {
    @discardableResult
    public static func write(_ d: ReportData, formats: [ReportFormat], to directory: URL) throws -> [URL] {
        let folder = directory.appending(path: d.practice)
        // The folder almost always exists already: one mkdir says so without FileManager's walk up the path.
        if mkdir(folder.path, 0o750) != 0, errno != EEXIST {
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
            // Unique per process and call: two workers may write the same practice's reports at once.
            let temporary = folder.appending(
                path: ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(temporaryCounter.wrappingAdd(1, ordering: .relaxed).newValue).tmp")
            // A subject-list report names patients: owner-only. Others are readable by the qofd group.
            try writeFile(data, to: temporary.path, mode: d.subjects == nil ? 0o640 : 0o600)
            guard rename(temporary.path, url.path) == 0 else {
                let error = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                unlink(temporary.path)
                throw error
            }
            return url
        }
    }
}

/// Writes `data` to a new file at `path` (replacing one left over), without forcing it to disk.
func writeFile(_ data: Data, to path: String, mode: mode_t = 0o640) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let error = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                unlink(path)
                throw error
            }
            offset += n
        }
    }
}

/// A process-wide counter for temporary file names.
let temporaryCounter = Atomic<Int>(0)
