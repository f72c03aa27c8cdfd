import Clinical
import Clusters
import Foundation
import HummingbirdBcrypt
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import Postgres
import ReferenceData
import RulesEngine
import Storage

/// The practice and PCN web view: server-rendered pages (Mustache templates, inline SVG charts, no
/// JavaScript) over the stored results and the archived extracts behind them. Every page checks
/// who is asking; patient-identifiable pages also need patient access and are audited; every form
/// carries a CSRF token; patient identifiers travel in form bodies, never in addresses.
public final class WebApp: Sendable {
    let templates: MustacheLibrary
    /// The NHS.UK frontend stylesheet, read once.
    let stylesheet: Data?
    let database: WebDatabase
    let inputs: @Sendable () async -> WebInputs
    let snapshots = SnapshotCache()
    let deprivation: Deprivation
    let ethnicGroups: EthnicGroups
    let logger: Logger
    static let sessionCookie = "qofd_session"
    static let loginCookie = "qofd_login"

    public init(conninfo: String, logger: Logger, inputs: @escaping @Sendable () async -> WebInputs) async throws {
        let settings = await inputs().settings
        guard let dir = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw WebError.missingTemplates
        }
        templates = try await MustacheLibrary(directory: dir.path)
        stylesheet = Bundle.module.url(forResource: "Static", withExtension: nil)
            .flatMap { try? Data(contentsOf: $0.appending(path: "nhsuk-frontend-10.4.2.min.css")) }
        database = WebDatabase(conninfo: conninfo, logger: logger)
        self.inputs = inputs
        self.logger = logger
        deprivation = try settings.referenceDirectory.map { try Deprivation.imd2025AcceptingLSOA2011(directory: URL(fileURLWithPath: $0)) }
            ?? Deprivation.bundledAcceptingLSOA2011.get()
        ethnicGroups = try EthnicGroups.bundled()
    }

    enum WebError: Error { case missingTemplates }

    /// Adds the web view's routes to the daemon's router.
    public func register(on router: Router<BasicRequestContext>) {
        router.add(middleware: NotFoundPage(app: self))
        // The NHS.UK frontend stylesheet (MIT; see Static/LICENSE-nhsuk-frontend.txt): public, and the same for ever.
        let stylesheet = self.stylesheet
        router.get("static/nhsuk-frontend-10.4.2.min.css") { _, _ -> Response in
            guard let data = stylesheet else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=31536000, immutable"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/") { request, _ in await self.guarded(request) { viewer in try await self.home(viewer) } }
        registerReports(on: router)
        router.get("login") { request, _ in await self.loginPage(request, error: nil) }
        router.post("login") { request, _ in await self.login(request) }
        router.post("logout") { request, _ in await self.logout(request) }
        router.get("practice/{ods}") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.dashboard(viewer, ods: context.parameters.get("ods")!, request: request)
            }
        }
        router.get("practice/{ods}/this-week") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.thisWeekPage(viewer, ods: context.parameters.get("ods")!, request: request)
            }
        }
        router.get("practice/{ods}/indicator/{id}") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.indicatorPage(viewer, ods: context.parameters.get("ods")!, id: context.parameters.get("id") ?? "", request: request)
            }
        }
        router.get("practice/{ods}/indicator/{id}/worklist.csv") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods"), patients: true) { viewer in
                try await self.worklistCSV(viewer, ods: context.parameters.get("ods")!, id: context.parameters.get("id") ?? "", request: request)
            }
        }
        router.get("practice/{ods}/patient") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods"), patients: true) { viewer in
                try await self.patientPage(viewer, ods: context.parameters.get("ods")!, form: [:])
            }
        }
        router.post("practice/{ods}/patient") { request, context in
            let form = await Self.form(request)
            return await self.guarded(request, practice: context.parameters.get("ods"), patients: true, form: form) { viewer in
                try await self.patientPage(viewer, ods: context.parameters.get("ods")!, form: form)
            }
        }
        router.get("practice/{ods}/inequalities") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.inequalitiesPage(viewer, practice: context.parameters.get("ods")!, pcn: nil, request: request)
            }
        }
        router.get("practice/{ods}/declaration") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.declarationPage(viewer, ods: context.parameters.get("ods")!, request: request)
            }
        }
        router.post("practice/{ods}/declaration") { request, context in
            let form = await Self.form(request)
            return await self.guarded(request, practice: context.parameters.get("ods"), form: form) { viewer in
                try await self.declarationAction(viewer, ods: context.parameters.get("ods")!, form: form)
            }
        }
        router.get("practice/{ods}/population") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.populationPage(viewer, practice: context.parameters.get("ods")!, pcn: nil)
            }
        }
        router.get("practice/{ods}/cohorts") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.cohortsPage(viewer, ods: context.parameters.get("ods")!)
            }
        }
        router.get("practice/{ods}/cohort/{id}") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods"), patients: true) { viewer in
                try await self.cohortPage(viewer, ods: context.parameters.get("ods")!, id: context.parameters.get("id") ?? "", csv: false)
            }
        }
        router.get("practice/{ods}/cohort/{id}/patients.csv") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods"), patients: true) { viewer in
                try await self.cohortPage(viewer, ods: context.parameters.get("ods")!, id: context.parameters.get("id") ?? "", csv: true)
            }
        }
        router.post("practice/{ods}/indicator/{id}/intervention") { request, context in
            let form = await Self.form(request)
            return await self.guarded(request, practice: context.parameters.get("ods"), patients: true, form: form) { viewer in
                try await self.createIntervention(viewer, ods: context.parameters.get("ods")!, indicator: context.parameters.get("id") ?? "", form: form)
            }
        }
        router.post("practice/{ods}/cohort/{id}/intervention") { request, context in
            let form = await Self.form(request)
            return await self.guarded(request, practice: context.parameters.get("ods"), patients: true, form: form) { viewer in
                try await self.createCohortIntervention(viewer, ods: context.parameters.get("ods")!, cohort: context.parameters.get("id") ?? "", form: form)
            }
        }
        router.get("practice/{ods}/interventions") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.interventionsPage(viewer, ods: context.parameters.get("ods")!)
            }
        }
        router.get("practice/{ods}/intervention/{n}") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.interventionPage(viewer, ods: context.parameters.get("ods")!, id: Int64(context.parameters.get("n") ?? "") ?? -1, csv: false)
            }
        }
        router.get("practice/{ods}/intervention/{n}/results.csv") { request, context in
            await self.guarded(request, practice: context.parameters.get("ods")) { viewer in
                try await self.interventionPage(viewer, ods: context.parameters.get("ods")!, id: Int64(context.parameters.get("n") ?? "") ?? -1, csv: true)
            }
        }
        router.get("pcn/{ods}/cohorts") { request, context in
            await self.guarded(request, pcn: context.parameters.get("ods")) { viewer in
                try await self.pcnCohortsPage(viewer, pcn: context.parameters.get("ods")!)
            }
        }
        router.get("pcn/{ods}/population") { request, context in
            await self.guarded(request, pcn: context.parameters.get("ods")) { viewer in
                try await self.populationPage(viewer, practice: nil, pcn: context.parameters.get("ods")!)
            }
        }
        router.get("pcn/{ods}") { request, context in
            await self.guarded(request, pcn: context.parameters.get("ods")) { viewer in
                try await self.pcnPage(viewer, ods: context.parameters.get("ods")!, request: request)
            }
        }
        router.get("pcn/{ods}/declaration") { request, context in
            await self.guarded(request, pcn: context.parameters.get("ods")) { viewer in
                try await self.declarationPage(viewer, ods: context.parameters.get("ods")!, declarer: .pcn, request: request)
            }
        }
        router.post("pcn/{ods}/declaration") { request, context in
            let form = await Self.form(request)
            return await self.guarded(request, pcn: context.parameters.get("ods"), form: form) { viewer in
                try await self.declarationAction(viewer, ods: context.parameters.get("ods")!, declarer: .pcn, form: form)
            }
        }
        router.get("pcn/{ods}/inequalities") { request, context in
            await self.guarded(request, pcn: context.parameters.get("ods")) { viewer in
                try await self.inequalitiesPage(viewer, practice: nil, pcn: context.parameters.get("ods")!, request: request)
            }
        }
    }

    // MARK: Rendering

    func page(_ template: String, _ context: [String: Any], viewer: Viewer?, status: HTTPResponse.Status = .ok) -> Response {
        var c = context
        // NHS.UK breadcrumbs: the trail on wide screens, a back link to the last step on a phone.
        if let crumbs = c["crumbs"] as? [[String: String]], let last = crumbs.last {
            c["hasCrumbs"] = true
            c["back"] = last
        }
        if let viewer {
            c["viewer"] = ["username": viewer.user.username, "roleWords": Self.roleWords(viewer.user), "csrf": viewer.csrfToken]
            c["csrf"] = viewer.csrfToken
        }
        let html = templates.render(Self.withoutEmptyStrings(c), withTemplate: template) ?? "template \(template) missing"
        return Self.response(status: status, type: "text/html; charset=utf-8", body: html)
    }

    /// The context with empty strings left out: Mustache takes an empty string as true, so `{{#note}}…{{/note}}`
    /// would draw an empty box for a note that is "" (and `{{^note}}` would not see it as missing).
    static func withoutEmptyStrings(_ value: Any) -> Any {
        switch value {
        case let d as [String: Any]:
            var out: [String: Any] = [:]
            for (k, v) in d where (v as? String) != "" { out[k] = withoutEmptyStrings(v) }
            return out
        case let a as [[String: Any]]: return a.map { withoutEmptyStrings($0) }
        case let a as [Any]: return a.map { withoutEmptyStrings($0) }
        default: return value
        }
    }

    static func response(status: HTTPResponse.Status, type: String, body: String) -> Response {
        var headers: HTTPFields = [.contentType: type]
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func message(_ status: HTTPResponse.Status, _ title: String, _ text: String, viewer: Viewer?) -> Response {
        page("message", ["title": title, "message": text], viewer: viewer, status: status)
    }

    static func roleWords(_ u: WebAccounts.User) -> String {
        switch u.role {
        case .practice: return "practice \(u.scope ?? "")\(u.patientAccess ? ", patient access" : "")\(u.right == .declare ? ", declares" : "")"
        case .pcn: return "PCN lead \(u.scope ?? "")\(u.patientAccess ? ", patient access" : "")\(u.right == .declare ? ", declares" : "")"
        case .commissioner: return "commissioner\(u.patientAccess ? ", patient access" : "")\(u.right == .approve ? ", approves" : "")"
        }
    }

    // MARK: Forms

    /// An `application/x-www-form-urlencoded` body (at most 64 KiB).
    static func form(_ request: Request) async -> [String: String] {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 65_536) else { return [:] }
        return decodeForm(String(buffer: buffer))
    }

    static func decodeForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // Control characters (NUL included) never reach a query, an audit row or a page.
            func decode(_ s: Substring) -> String {
                let text = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                return String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 32 && $0.value != 127 || $0 == "\n" || $0 == "\t" }))
            }
            guard !kv[0].isEmpty else { continue }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }

    /// A query parameter, decoded as browsers encode forms (`+` is a space).
    static func query(_ request: Request, _ name: String) -> String? {
        decodeForm(request.uri.query ?? "")[name]
    }
}

/// A PCN lead sees the practices that are members of the PCN, or were at any time in the current or
/// the previous QOF year (whose figures are still being declared and compared); not those that left before.
public func membershipWindowStart() -> Day {
    let c = todayInEngland().components
    return Day(year: c.month >= 4 ? c.year - 1 : c.year - 2, month: 4, day: 1)!
}

/// Today in England (the QOF calendar's days).
public func todayInEngland() -> Day {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
    let c = calendar.dateComponents([.year, .month, .day], from: Date())
    return Day(year: c.year!, month: c.month!, day: c.day!)!
}
