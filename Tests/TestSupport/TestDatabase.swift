import Foundation
import Logging
import Postgres
import PostgresCluster
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// One throwaway PostgreSQL cluster per test process, and a fresh database per test.
///
/// The cluster is created on first use under `/tmp/qofd-test-<pid>` (as the `postgres` user when
/// the tests run as root), tuned for speed (no fsync), and destroyed when the process exits.
/// Clusters left behind by a test process that crashed are cleaned up by the next run.
public enum TestDatabase {
    private static let shared: Task<PrivateCluster, any Error> = Task {
        removeStaleClusters()
        let directory = URL(fileURLWithPath: "/tmp/qofd-test-\(getpid())")
        let cluster = try PrivateCluster(
            directory: directory, database: "postgres",
            settings: ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"],
            logger: Logger(label: "qofd.test.cluster"))
        try cluster.start()
        ClusterRegistry.register(cluster)
        atexit { ClusterRegistry.destroyAll() }
        let admin = try await PostgresConnection.connect(cluster.conninfo(database: "postgres"))
        try await admin.createDatabaseIfMissing("qofd_template_empty")
        try await admin.createDatabaseIfMissing("qofd_template_migrated")
        await admin.close()
        let template = try await PostgresConnection.connect(cluster.conninfo(database: "qofd_template_migrated"))
        try await Migrator().migrate(on: template)
        await template.close()
        return cluster
    }

    /// The shared cluster (started on first call).
    public static func cluster() async throws -> PrivateCluster {
        try await shared.value
    }

    /// Creates a new, empty database (or one with every migration applied) and returns its conninfo.
    public static func fresh(migrated: Bool = false, label: String = "t") async throws -> String {
        let cluster = try await shared.value
        let name = "\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try await PostgresConnection.connect(cluster.conninfo(database: "postgres"))
        try await admin.createDatabaseIfMissing(name, template: migrated ? "qofd_template_migrated" : "qofd_template_empty")
        await admin.close()
        return cluster.conninfo(database: name)
    }

    /// Opens a connection to a fresh database.
    public static func connect(migrated: Bool = false, logger: Logger = Logger(label: "qofd.test")) async throws
        -> PostgresConnection
    {
        try await PostgresConnection.connect(try await fresh(migrated: migrated), logger: logger)
    }

    /// Removes `/tmp/qofd-test-<pid>` clusters whose test process is gone.
    private static func removeStaleClusters() {
        let tmp = URL(fileURLWithPath: "/tmp")
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: tmp.path) else { return }
        for entry in entries where entry.hasPrefix("qofd-test-") {
            guard let pid = Int32(entry.dropFirst("qofd-test-".count)), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            if let stale = try? PrivateCluster(directory: tmp.appending(path: entry)) {
                try? stale.destroy()
            }
        }
    }
}

/// Clusters to destroy when the test process exits.
public enum ClusterRegistry {
    nonisolated(unsafe) private static var clusters: [PrivateCluster] = []
    private static let lock = NSLock()

    public static func register(_ cluster: PrivateCluster) {
        lock.lock()
        clusters.append(cluster)
        lock.unlock()
    }

    static func destroyAll() {
        lock.lock()
        let all = clusters
        clusters = []
        lock.unlock()
        for cluster in all { try? cluster.destroy() }
    }
}
