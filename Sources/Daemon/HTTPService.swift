import Foundation
import Hummingbird
import NIOCore
import Logging
import Prometheus
import Web

/// The daemon's HTTP surface: `/healthz` (the process is alive), `/readyz` (the database answered
/// and a poll succeeded recently), `/metrics` (Prometheus text format), and the web view (dashboards,
/// worklists and the declaration reports at `/reports`, behind sign-in). Loopback unless configured.
public enum HTTPSurface {
    public static func application(
        state: DaemonState, registry: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger, web: WebApp? = nil,
        onListening: @escaping @Sendable () async -> Void = {}
    ) -> some ApplicationProtocol {

        let router = Router()
        web?.register(on: router)
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("readyz") { _, _ -> Response in
            let ready = await state.isReady
            let last = await state.lastSuccessfulPoll.map { ISO8601DateFormatter().string(from: $0) } ?? "never"
            let body = "\(ready ? "ready" : "not ready"): database \(ready ? "reachable" : "unreachable"), last successful poll \(last)\n"
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "qofd"),
            onServerRunning: { _ in await onListening() }, logger: logger)
    }
}

extension HTTPSurface {
    /// True when `error` is the listener failing to bind because the address is taken (EADDRINUSE),
    /// found by its errno, not by its text.
    public static func isAddressInUse(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == EADDRINUSE }
        return false
    }
}
