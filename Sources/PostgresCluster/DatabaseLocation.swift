import Foundation
import Logging

/// Where qofd's database is: a configured URL, or the embedded private cluster in the state directory.
///
/// This is the "embedded default": with no URL configured, the first command works on a fresh
/// machine with nothing set up by hand.
public enum DatabaseLocation: Sendable {
    case url(String)
    case embedded(stateDirectory: URL)

    /// A URL when one is given, else the embedded cluster under `stateDirectory`.
    public init(url: String?, stateDirectory: URL) {
        if let url, !url.isEmpty { self = .url(url) } else { self = .embedded(stateDirectory: stateDirectory) }
    }

    /// The default state directory: `$QOFD_STATE_DIR`, systemd's `$STATE_DIRECTORY`, `/var/lib/qofd`
    /// for root, else `$XDG_STATE_HOME/qofd` or `~/.local/state/qofd`.
    public static func defaultStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> URL
    {
        if let dir = environment["QOFD_STATE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let dir = environment["STATE_DIRECTORY"]?.split(separator: ":").first { return URL(fileURLWithPath: String(dir)) }
        if geteuid() == 0 { return URL(fileURLWithPath: "/var/lib/qofd") }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appending(path: "qofd")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appending(path: ".local/state/qofd")
    }

    /// Makes the database reachable: for the embedded cluster, creates and starts it if needed.
    /// - Returns: the conninfo to use, and the cluster to stop afterwards when this call started it.
    public func open(logger: Logger) async throws -> (conninfo: String, startedCluster: PrivateCluster?) {
        switch self {
        case .url(let url):
            return (url, nil)
        case .embedded(let stateDirectory):
            // Traversable by others (no listing), so a server running as `postgres` can reach its subdirectory.
            try FileManager.default.createDirectory(
                at: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            // Made earlier by qofd itself (umask 027), the folder may not be traversable yet: add that, nothing more.
            if let mode = (try? FileManager.default.attributesOfItem(atPath: stateDirectory.path))?[.posixPermissions] as? Int, mode & 0o001 == 0 {
                try? FileManager.default.setAttributes([.posixPermissions: mode | 0o001], ofItemAtPath: stateDirectory.path)
            }
            // JIT off: systemd's MemoryDenyWriteExecute=yes (in the shipped unit) forbids the executable memory
            // LLVM JIT needs, which would fail large queries; qofd's queries gain nothing from JIT.
            let cluster = try PrivateCluster(directory: stateDirectory.appending(path: "postgres"), settings: ["jit": "off"], logger: logger)
            let started = try cluster.start()
            do {
                try await cluster.createDatabaseIfMissing()
            } catch {
                if started { try? cluster.stop() }
                throw error
            }
            return (cluster.conninfo(), started ? cluster : nil)
        }
    }
}
