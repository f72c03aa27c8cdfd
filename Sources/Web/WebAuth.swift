import Foundation
import HummingbirdBcrypt
import HTTPTypes
import Hummingbird
import Clinical
import Postgres
import Storage

/// Signing in and out, sessions, CSRF and the access check every page goes through.
extension WebApp {
    /// Hashes a password for a local account (bcrypt).
    public static func hashPassword(_ password: String, cost: UInt8 = 12) -> String { Bcrypt.hash(password, cost: cost) }

    /// Failed sign-ins allowed per username within the window before the name is locked for the window.
    static let signInLimit = 5
    static let signInWindowMinutes = 15
    /// What an unknown username's password is checked against (same cost as real accounts).
    static let dummyHash = Bcrypt.hash(WebAccounts.randomToken(), cost: 12)

    /// Resolves the viewer, checks access, runs the page. Unauthenticated: to the sign-in page (or
    /// 401 behind a proxy); not allowed: 403; a POST without the session's CSRF token: 403.
    func guarded(
        _ request: Request, practice: String? = nil, pcn: String? = nil, patients: Bool = false, form: [String: String]? = nil,
        _ body: @Sendable (Viewer) async throws -> Response
    ) async -> Response {
        let settings = await inputs().settings
        let resolved: (viewer: Viewer, cookie: Cookie?)?
        do { resolved = try await viewer(request, settings: settings) } catch {
            logger.error("web: database unavailable", metadata: ["error": "\(error)"])
            return message(.serviceUnavailable, "Database unavailable", "The results database cannot be reached just now. Try again shortly.", viewer: nil)
        }
        guard let (viewer, cookie) = resolved else {
            if settings.authentication == .proxy {
                return message(.unauthorized, "Not signed in", "Your sign-in was not recognised by qofd. Ask an administrator to add your account.", viewer: nil)
            }
            return .redirect(to: "/login", type: .normal)
        }
        if let form, form["csrf"] != viewer.csrfToken {
            return message(.forbidden, "Form expired", "This form could not be accepted (missing or stale security token). Go back, reload the page and try again.", viewer: viewer)
        }
        if let practice, !viewer.mayView(practice: practice) {
            if patients {
                try? await database.run { conn in try WebAccounts.audit(actor: viewer.user.username, action: "web-refused-patient-access", practice: practice, in: conn) }
            }
            return message(.forbidden, "Not your practice", "Your account does not give access to practice \(practice).", viewer: viewer)
        }
        if let pcn, !viewer.mayView(pcn: pcn) {
            return message(.forbidden, "Not your PCN", "Your account does not give access to PCN \(pcn).", viewer: viewer)
        }
        if patients, let practice, !viewer.mayViewPatients(of: practice) {
            // A refused patient-level request is audited like a granted one.
            try? await database.run { conn in try WebAccounts.audit(actor: viewer.user.username, action: "web-refused-patient-access", practice: practice, in: conn) }
            return message(.forbidden, "Patient access needed", "Patient-identifiable pages need an account with patient access.", viewer: viewer)
        }
        var response: Response
        do { response = try await body(viewer) } catch {
            // The page says what happened and gives a reference; the details stay in the log, never on the page.
            let reference = String(UUID().uuidString.prefix(8)).lowercased()
            logger.error("web: page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)", "reference": "\(reference)"])
            response = message(.internalServerError, "Something went wrong",
                               "The page could not be built. If it happens again, give your administrator the reference \(reference).", viewer: viewer)
        }
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// The signed-in viewer, from the session cookie or (proxy mode) the trusted header.
    func viewer(_ request: Request, settings: WebSettings) async throws -> (Viewer, Cookie?)? {
        let token = request.cookies[Self.sessionCookie]?.value
        let header = settings.authentication == .proxy
            ? request.headers[HTTPField.Name(settings.proxyHeader) ?? .authorization].map { $0.trimmingCharacters(in: .whitespaces) } : nil
        let minutes = settings.sessionMinutes
        let found: (WebAccounts.Session, String?)? = try await database.run { conn in
            if let token, let s = try WebAccounts.session(token: token, in: conn), header == nil || header == s.user.username {
                return (s, nil)
            }
            guard let header, let user = try WebAccounts.user(header, in: conn), !user.disabled else { return nil }
            let (newToken, csrf) = try WebAccounts.startSession(for: user.username, lifetimeSeconds: minutes * 60, in: conn)
            return (WebAccounts.Session(user: user, csrfToken: csrf), newToken)
        }
        guard let (session, newToken) = found else { return nil }
        let user = session.user
        let practices: Set<String>? = try await database.run { conn in
            switch user.role {
            case .commissioner: return nil
            case .practice: return Set([user.scope].compactMap { $0 })
            case .pcn: return Set(try PracticeHistory.practices(inPCN: user.scope, since: membershipWindowStart(), in: conn).map(\.ods))
            }
        }
        return (Viewer(user: user, csrfToken: session.csrfToken, practices: practices), newToken.map { sessionCookie($0, settings: settings) })
    }

    func sessionCookie(_ value: String, settings: WebSettings, maxAge: Int? = nil) -> Cookie {
        Cookie(name: Self.sessionCookie, value: value, maxAge: maxAge ?? settings.sessionMinutes * 60, path: "/", secure: settings.secureCookies,
               httpOnly: true, sameSite: .strict)
    }

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) async -> Response {
        let settings = await inputs().settings
        // Double-submit token for the sign-in form (there is no session yet).
        let token = WebAccounts.randomToken()
        var context: [String: Any] = ["title": "Sign in", "csrf": token]
        if let error { context["error"] = error }
        var response = page("login", context, viewer: nil, status: status)
        response.setCookie(Cookie(name: Self.loginCookie, value: token, maxAge: 1800, path: "/login", secure: settings.secureCookies,
                                  httpOnly: true, sameSite: .strict))
        return response
    }

    func login(_ request: Request) async -> Response {
        let settings = await inputs().settings
        let form = await Self.form(request)
        guard let expected = request.cookies[Self.loginCookie]?.value, form["csrf"] == expected else {
            return await loginPage(request, error: "The sign-in form expired. Please try again.", status: .forbidden)
        }
        let username = String((form["username"] ?? "").prefix(64)), password = form["password"] ?? ""
        do {
            // Brute force: after `signInLimit` failures in `signInWindowMinutes`, the name is locked for the window,
            // whether it exists or not (so the lock says nothing about which names exist).
            let (user, failures) = try await database.run { conn in
                (try WebAccounts.user(username, in: conn), try WebAccounts.recentSignInFailures(username, minutes: Self.signInWindowMinutes, in: conn))
            }
            if failures >= Self.signInLimit {
                try await database.run { conn in try WebAccounts.audit(actor: username, action: "web-sign-in-throttled", in: conn) }
                logger.notice("web: sign-in throttled after repeated failures")
                return await loginPage(request, error: "Too many failed sign-ins for this account. Try again in \(Self.signInWindowMinutes) minutes.",
                                       status: .tooManyRequests)
            }
            // The same bcrypt work for every attempt (an unknown name is checked against a dummy hash), so the
            // answer's timing does not tell which names exist.
            let hash = user.flatMap { $0.disabled ? nil : $0.passwordHash }
            let matches = Bcrypt.verify(password, hash: hash ?? Self.dummyHash) && hash != nil
            guard let user, matches else {
                try await database.run { conn in try WebAccounts.audit(actor: username, action: "web-sign-in-failed", in: conn) }
                logger.notice("web: sign-in refused")
                return await loginPage(request, error: "Wrong username or password.", status: .unauthorized)
            }
            let minutes = settings.sessionMinutes
            let (token, _) = try await database.run { conn in
                let started = try WebAccounts.startSession(for: user.username, lifetimeSeconds: minutes * 60, in: conn)
                try WebAccounts.audit(actor: user.username, action: "web-sign-in", in: conn)
                return started
            }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(sessionCookie(token, settings: settings))
            return response
        } catch {
            logger.error("web: sign-in failed", metadata: ["error": "\(error)"])
            return message(.serviceUnavailable, "Database unavailable", "The results database cannot be reached just now.", viewer: nil)
        }
    }

    func logout(_ request: Request) async -> Response {
        let settings = await inputs().settings
        let form = await Self.form(request)
        guard let token = request.cookies[Self.sessionCookie]?.value else { return .redirect(to: "/login", type: .normal) }
        let ended: Bool = (try? await database.run { conn in
            guard let s = try WebAccounts.session(token: token, in: conn), form["csrf"] == s.csrfToken else { return false }
            try WebAccounts.endSession(token: token, in: conn)
            return true
        }) ?? false
        guard ended else { return message(.forbidden, "Form expired", "Sign-out could not be confirmed; reload the page and try again.", viewer: nil) }
        var response = Response.redirect(to: "/login", type: .normal)
        response.setCookie(sessionCookie("", settings: settings, maxAge: 0))
        return response
    }

    /// Writes a patient-identifiable page view to the audit log; the page is not shown if this fails.
    func audit(_ viewer: Viewer, action: String, practice: String, ruleset: String?, achievementDate: Day?, details: [String: String]) async throws {
        let actor = viewer.user.username
        try await database.run { conn in
            try AuditLog.record(actor: actor, action: action, practice: practice, ruleset: ruleset, achievementDate: achievementDate, details: details, in: conn)
        }
    }
}
