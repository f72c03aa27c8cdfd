import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on `<state dir>/serve.lock`, held for the life of `qofd serve` on the embedded cluster
/// (the kernel releases it when the process ends, however it ends).
enum StateDirectoryLock {
    /// The locked descriptor, kept open for the life of the process.
    private static let held = Mutex<Int32>(-1)

    /// Takes the lock; returns nil when taken, or the pid of the daemon that holds it.
    static func acquire(_ stateDirectory: String) -> Int32? {
        let path = stateDirectory + "/serve.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            return Int32(String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        _ = ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        held.withLock { $0 = fd }
        return nil
    }
}
