import Dispatch

/// A serial executor backed by a private dispatch queue.
///
/// libpq calls block the calling thread. Swift's cooperative pool has only as many threads as cores
/// (two here), so blocking it would stall the whole daemon. Each `PostgresConnection` actor runs on its
/// own queue instead: one connection = one actor = one serial queue, with isolation checked by the compiler.
final class SerialQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
