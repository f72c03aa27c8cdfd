import Dispatch

/// Runs CPU-heavy work (reading an extract, evaluating it) on a Dispatch thread instead of Swift's cooperative
/// pool, which has one thread per core and is shared with the HTTP server and the poller: a long evaluation
/// must not leave the web view or `/healthz` waiting. The caller awaits the result like any async call.
enum OffPool {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
