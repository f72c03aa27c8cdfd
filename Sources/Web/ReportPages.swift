import Foundation
import Hummingbird
import NIOCore

/// The declaration reports the daemon writes, served to signed-in users for the practices they may see:
/// `/reports` lists them, `/reports/{ods}/{file}` opens one. A subject-list report (it names patients) also
/// needs patient access, and opening it is audited.
extension WebApp {
    /// Only plain names: no path separators, no hidden files.
    static func safeName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    func registerReports(on router: Router<BasicRequestContext>) {
        router.get("reports") { request, _ in await self.guarded(request) { viewer in try await self.reportIndex(viewer) } }
        router.get("reports/{ods}/{file}") { request, context in
            let ods = context.parameters.get("ods") ?? "", file = context.parameters.get("file") ?? ""
            guard Self.safeName(ods), Self.safeName(file) else {
                return await self.guarded(request) { viewer in self.message(.notFound, "No such report", "There is no report at this address.", viewer: viewer) }
            }
            return await self.guarded(request, practice: ods, patients: file.contains("-subjects")) { viewer in
                try await self.report(viewer, ods: ods, file: file)
            }
        }
    }

    func reportIndex(_ viewer: Viewer) async throws -> Response {
        guard let dir = await inputs().reports else {
            return message(.notFound, "No reports", "This qofd writes no report files.", viewer: viewer)
        }
        let practices = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter(Self.safeName).filter(viewer.mayView(practice:)).sorted()
        let rows = practices.map { ods -> [String: Any] in
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.appending(path: ods).path)) ?? [])
                .filter { Self.safeName($0) && (!$0.contains("-subjects") || viewer.mayViewPatients(of: ods)) }.sorted()
            return ["ods": ods, "files": files.map { ["name": $0, "href": "/reports/\(ods)/\($0)"] }]
        }
        return page("reports", ["title": "Reports", "practices": rows, "none": rows.isEmpty], viewer: viewer)
    }

    func report(_ viewer: Viewer, ods: String, file: String) async throws -> Response {
        guard let dir = await inputs().reports, let data = try? Data(contentsOf: dir.appending(path: ods).appending(path: file)) else {
            return message(.notFound, "No such report", "There is no report \(file) for practice \(ods).", viewer: viewer)
        }
        if file.contains("-subjects") {
            try await audit(viewer, action: "web-view-subject-report", practice: ods, ruleset: nil, achievementDate: nil, details: ["file": file])
        }
        let type = file.hasSuffix(".html") ? "text/html; charset=utf-8" : file.hasSuffix(".json") ? "application/json"
            : file.hasSuffix(".xml") ? "application/xml" : "text/csv; charset=utf-8"
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
