import Foundation

/// Where the PostgreSQL server programs (`initdb`, `pg_ctl`) are on this machine.
///
/// Looks on `PATH` first, then in the newest `/usr/lib/postgresql/*/bin` (Debian keeps the server
/// programs there, off the PATH). A missing server is reported with the package to install.
public struct ServerBinaries: Sendable, Hashable {
    public var initdb: String
    public var pgCtl: String

    public init(initdb: String, pgCtl: String) {
        self.initdb = initdb
        self.pgCtl = pgCtl
    }

    /// Finds the binaries or throws `ClusterError` naming the package to install.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ServerBinaries
    {
        let fm = FileManager.default
        var candidates: [String] = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let root = "/usr/lib/postgresql"
        if let versions = try? fm.contentsOfDirectory(atPath: root) {
            let sorted = versions.compactMap { v in Int(v).map { ($0, v) } }.sorted { $0.0 > $1.0 }
            candidates += sorted.map { "\(root)/\($0.1)/bin" }
        }
        for dir in candidates {
            let initdb = "\(dir)/initdb"
            let pgCtl = "\(dir)/pg_ctl"
            if fm.isExecutableFile(atPath: initdb), fm.isExecutableFile(atPath: pgCtl) {
                return ServerBinaries(initdb: initdb, pgCtl: pgCtl)
            }
        }
        throw ClusterError(
            "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. "
                + "Install the server, e.g. `apt-get install postgresql`, or configure a database URL.")
    }
}

/// A failure to create, start or stop the private cluster, with a message meant for a person.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
