import CLibPQ
import Logging

/// Receives server notices (`NOTICE`, `WARNING`) for one connection and sends them to the logger,
/// instead of libpq's default of printing them on stderr.
final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ result: OpaquePointer) {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let severity = field(CLibPQ_DIAG_SEVERITY) ?? "NOTICE"
        let level: Logger.Level = severity == "WARNING" ? .warning : (severity == "DEBUG" ? .debug : .info)
        // Only the primary message: DETAIL lines can carry row values.
        logger.log(
            level: level, "postgres \(severity.lowercased()): \(field(CLibPQ_DIAG_MESSAGE_PRIMARY) ?? "")",
            metadata: ["sqlstate": "\(field(CLibPQ_DIAG_SQLSTATE) ?? "")"])
    }
}

/// The C callback libpq calls for each notice; `arg` is an unretained `NoticeSink` that the
/// connection keeps alive for as long as the PGconn exists.
let noticeReceiver: PQnoticeReceiver = { arg, result in
    guard let arg, let result else { return }
    Unmanaged<NoticeSink>.fromOpaque(arg).takeUnretainedValue().receive(result)
}
