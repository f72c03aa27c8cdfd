import Foundation
import Postgres
import PostgresCluster
import Testing
import TestSupport

@Suite("Connection loss and reconnect")
struct ReconnectTests {
    @Test("after the server restarts, the loss is reported and reset() reconnects")
    func reconnectAfterRestart() async throws {
        // A cluster of its own: restarting the shared one would disturb other tests.
        let dir = URL(fileURLWithPath: "/tmp/qofd-test-\(getpid())-restart")
        let cluster = try PrivateCluster(directory: dir, settings: ["fsync": "off"])
        ClusterRegistry.register(cluster)
        defer { try? cluster.destroy() }
        try cluster.start()
        try await cluster.createDatabaseIfMissing()
        let conn = try await PostgresConnection.connect(cluster.conninfo())
        #expect(try await conn.query("SELECT 1")[0].decode(0, as: Int.self) == 1)

        try cluster.stop(mode: "fast")
        try cluster.start()

        do {
            try await conn.query("SELECT 1")
            Issue.record("expected the lost connection to be reported")
        } catch let error as PostgresError {
            #expect(error.isConnectionLoss)
        }
        #expect(await conn.isConnected == false)
        try await conn.reset()
        #expect(await conn.isConnected)
        #expect(try await conn.query("SELECT 2")[0].decode(0, as: Int.self) == 2)
        // A statement prepared in the lost session is prepared again in the new one.
        #expect(try await conn.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
    }

    @Test("connect with backoff keeps trying until the server is up")
    func connectWithBackoff() async throws {
        let dir = URL(fileURLWithPath: "/tmp/qofd-test-\(getpid())-backoff")
        let cluster = try PrivateCluster(directory: dir, settings: ["fsync": "off"])
        ClusterRegistry.register(cluster)
        defer { try? cluster.destroy() }
        try cluster.start()
        try await cluster.createDatabaseIfMissing()
        try cluster.stop()
        let starter = Task.detached {
            try await Task.sleep(for: .milliseconds(700))
            try cluster.start()
        }
        let conn = try await PostgresConnection.connect(
            cluster.conninfo(), retry: Backoff(initial: 0.1, maximum: 0.5, maxAttempts: 100))
        #expect(try await conn.query("SELECT 3")[0].decode(0, as: Int.self) == 3)
        try await starter.value
    }
}
