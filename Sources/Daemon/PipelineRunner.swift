import Foundation
import Logging
import Postgres

/// Runs the pipeline over everything in the inbox once, with a number of concurrent workers (one
/// connection each), as the daemon does on every poll.
public enum PipelineRunner {
    public struct Summary: Sendable {
        public var processed = 0
        public var rejected = 0
        public var duplicates = 0
        public var busy = 0
        public var patients = 0
        public var failed = 0
        public var runs: [Int64] = []
    }

    /// - Parameters:
    ///   - shouldStop: checked before each extract; true stops taking new work.
    ///   - progress: called as each extract is taken, and once more when a worker finishes: the daemon's liveness (systemd's watchdog)
    ///     advances per extract, so a long backlog in one poll never looks like a hung loop.
    public static func runOnce(
        _ processor: ExtractProcessor, conninfo: String, workers: Int, logger: Logger,
        shouldStop: @escaping @Sendable () -> Bool = { false }, progress: @escaping @Sendable () async -> Void = {}
    ) async throws -> Summary {
        let queue = WorkList(processor.pending())
        guard await queue.count > 0 else { return Summary() }
        return try await withThrowingTaskGroup(of: Summary.self) { group in
            for _ in 0..<max(1, workers) {
                group.addTask {
                    let conn = try await PostgresConnection.connect(conninfo, logger: logger)
                    var s = Summary()
                    while !shouldStop(), let dir = await queue.next() {
                        guard FileManager.default.fileExists(atPath: dir.path) else { continue }
                        await progress()
                        let outcome: ExtractProcessor.Outcome
                        do {
                            outcome = try await processor.process(dir, using: conn)
                        } catch let error as PostgresError where error.isConnectionLoss {
                            throw error  // the database is gone: the poll fails and is retried
                        } catch {
                            // One extract's trouble never stops the others; it stays in the inbox and is tried
                            // again on a later poll, until the pipeline gives up on it and quarantines it.
                            s.failed += 1
                            if !(error is ExtractFailed), processor.giveUpIfRepeated(dir, error: error) {
                                s.rejected += 1
                                continue
                            }
                            logger.error("extract failed; will retry", metadata: ["extract": "\(dir.lastPathComponent)", "error": "\(error)"])
                            continue
                        }
                        switch outcome {
                        case .processed(_, let runs, let patients):
                            s.processed += 1
                            s.patients += patients
                            s.runs += runs
                        case .rejected: s.rejected += 1
                        case .duplicate: s.duplicates += 1
                        case .busy: s.busy += 1
                        case .incomplete: break
                        }
                    }
                    await conn.close()
                    await progress()
                    return s
                }
            }
            var total = Summary()
            for try await s in group {
                total.processed += s.processed
                total.rejected += s.rejected
                total.duplicates += s.duplicates
                total.busy += s.busy
                total.patients += s.patients
                total.failed += s.failed
                total.runs += s.runs
            }
            return total
        }
    }
}

/// Hands out inbox directories to workers, each once.
actor WorkList {
    private var items: [URL]
    init(_ items: [URL]) { self.items = items.reversed() }
    var count: Int { items.count }
    func next() -> URL? { items.popLast() }
}
