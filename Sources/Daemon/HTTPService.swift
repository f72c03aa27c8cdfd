import Foundation
import Hummingbird
import NIOCore
import Logging
import Prometheus
import Web

/// The daemon's HTTP surface: `/healthz` (the process is alive), `/readyz` (the database answered
/// and a poll succeeded recently), `/metrics` (Prometheus text format), `/reports`, and the web view
/// (dashboards and worklists, behind sign-in). Loopback unless configured.
public enum HTTPSurface {
    /// Only plain names: no path separators, no hidden files.
    static func safe(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

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
        // The latest declaration reports the daemon wrote (aggregate figures only, no patient data).
        router.get("reports") { _, _ -> Response in
            let dir = await URL(fileURLWithPath: state.configuration.reports)
            let practices = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter(HTTPSurface.safe).sorted()
            var html = "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>qofd reports</title></head><body><main><h1>Reports</h1><ul>"
            for ods in practices {
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.appending(path: ods).path)) ?? []).filter(HTTPSurface.safe).sorted()
                html += "<li>\(ods): " + files.map { "<a href=\"/reports/\(ods)/\($0)\">\($0)</a>" }.joined(separator: " · ") + "</li>"
            }
            html += "</ul></main></body></html>"
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("reports/{ods}/{file}") { _, context -> Response in
            let ods = try context.parameters.require("ods")
            let file = try context.parameters.require("file")
            guard HTTPSurface.safe(ods), HTTPSurface.safe(file) else { return Response(status: .notFound) }
            let url = await URL(fileURLWithPath: state.configuration.reports).appending(path: ods).appending(path: file)
            guard let data = try? Data(contentsOf: url) else { return Response(status: .notFound) }
            let type = file.hasSuffix(".html") ? "text/html; charset=utf-8" : file.hasSuffix(".json") ? "application/json" : "text/csv; charset=utf-8"
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
