import Crypto
import Foundation
import Postgres

/// The web view's accounts and sessions in the database. Passwords arrive here already hashed (the
/// web module hashes them); session tokens are stored only as their SHA-256.
public enum WebAccounts {
    /// What a user may see: one practice, a PCN's member practices, or every practice.
    public enum Role: String, Sendable, Codable, CaseIterable {
        case practice, pcn, commissioner
    }

    /// A part in the declaration workflow: declaring (a practice user for their practice, a PCN's nominated
    /// person for the PCN) or approving and returning (a commissioner). An account holds one at most.
    public enum DeclarationRight: String, Sendable, Codable, CaseIterable {
        case declare, approve

        /// Whether an account of this role may hold the right.
        public func fits(_ role: Role) -> Bool {
            switch self {
            case .declare: return role != .commissioner
            case .approve: return role == .commissioner
            }
        }
    }

    /// One account as stored.
    public struct User: Sendable, Hashable {
        public var username: String
        public var role: Role
        /// The practice or PCN ODS code; nil for a commissioner.
        public var scope: String?
        public var patientAccess: Bool
        /// Declaring or approving, if the account takes part in the declaration workflow.
        public var right: DeclarationRight?
        public var passwordHash: String?
        public var disabled: Bool

        public init(username: String, role: Role, scope: String?, patientAccess: Bool, right: DeclarationRight? = nil, passwordHash: String?,
                    disabled: Bool = false) {
            self.username = username
            self.role = role
            self.scope = scope
            self.patientAccess = patientAccess
            self.right = right
            self.passwordHash = passwordHash
            self.disabled = disabled
        }
    }

    /// A signed-in session: its user and CSRF token.
    public struct Session: Sendable {
        public var user: User
        public var csrfToken: String
        public init(user: User, csrfToken: String) {
            self.user = user
            self.csrfToken = csrfToken
        }
    }

    /// Adds or replaces an account (the organisation in `scope` is created if unknown).
    public static func save(_ u: User, scopeName: String? = nil, in conn: isolated PostgresConnection) throws {
        if let scope = u.scope {
            try conn.execute(
                """
                INSERT INTO organisation (ods_code, kind, name) VALUES (\(scope), \(u.role == .pcn ? "pcn" : "practice"), \(scopeName ?? scope))
                ON CONFLICT (ods_code) DO NOTHING
                """)
        }
        try conn.execute(
            """
            INSERT INTO web_user (username, role, scope, patient_access, declaration_right, password_hash, disabled)
            VALUES (\(u.username), \(u.role.rawValue), \(u.scope), \(u.patientAccess), \(u.right?.rawValue), \(u.passwordHash), \(u.disabled))
            ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role, scope = EXCLUDED.scope,
                patient_access = EXCLUDED.patient_access, declaration_right = EXCLUDED.declaration_right, password_hash = coalesce(EXCLUDED.password_hash, web_user.password_hash),
                disabled = EXCLUDED.disabled
            """)
        try conn.execute(
            """
            INSERT INTO audit_log (actor, action, details)
            VALUES ('qofd user', 'web-user-saved', jsonb_build_object('username', \(u.username)::text, 'role', \(u.role.rawValue)::text,
                    'scope', \(u.scope)::text, 'patient_access', \(u.patientAccess)::boolean,
                    'declaration_right', \(u.right?.rawValue)::text, 'disabled', \(u.disabled)::boolean))
            """)
    }

    public static func user(_ username: String, in conn: isolated PostgresConnection) throws -> User? {
        try conn.query(
            "SELECT username, role, scope, patient_access, password_hash, disabled, declaration_right FROM web_user WHERE username = \(username)"
        ).first.map(user)
    }

    public static func users(in conn: isolated PostgresConnection) throws -> [User] {
        try conn.query("SELECT username, role, scope, patient_access, password_hash, disabled, declaration_right FROM web_user ORDER BY username").map(user)
    }

    private static func user(_ row: PostgresRow) throws -> User {
        User(
            username: try row.decode(0), role: Role(rawValue: try row.decode(1, as: String.self)) ?? .practice, scope: try row.decode(2),
            patientAccess: try row.decode(3), right: try row.decode(6, as: String?.self).flatMap(DeclarationRight.init(rawValue:)),
            passwordHash: try row.decode(4), disabled: try row.decode(5))
    }

    /// Starts a session: returns the token for the cookie (only its hash is stored).
    public static func startSession(for username: String, lifetimeSeconds: Int, in conn: isolated PostgresConnection) throws
        -> (token: String, csrf: String)
    {
        let token = randomToken()
        let csrf = randomToken()
        try conn.execute("DELETE FROM web_session WHERE expires_at < now()")
        try conn.execute(
            """
            INSERT INTO web_session (token_sha256, username, csrf_token, expires_at)
            VALUES (\(hash(token)), \(username), \(csrf), now() + make_interval(secs => \(lifetimeSeconds)))
            """)
        return (token, csrf)
    }

    /// The live session for a cookie token, with its (enabled) user.
    public static func session(token: String, in conn: isolated PostgresConnection) throws -> Session? {
        guard let row = try conn.query(
            """
            SELECT u.username, u.role, u.scope, u.patient_access, u.password_hash, u.disabled, u.declaration_right, s.csrf_token
            FROM web_session s JOIN web_user u USING (username)
            WHERE s.token_sha256 = \(hash(token)) AND s.expires_at > now() AND NOT u.disabled
            """
        ).first else { return nil }
        return Session(user: try user(row), csrfToken: try row.decode(7))
    }

    /// Failed sign-ins for a username (known or not) in the last `minutes`: the brute-force limit's count.
    public static func recentSignInFailures(_ username: String, minutes: Int, in conn: isolated PostgresConnection) throws -> Int {
        try conn.query(
            """
            SELECT count(*) FROM audit_log
            WHERE action = 'web-sign-in-failed' AND actor = \(String(username.prefix(64))) AND at > now() - make_interval(mins => \(minutes))
            """)[0].decode(0, as: Int.self)
    }

    /// Audits a web event (a sign-in, a failed or throttled one, a refused request) in the name typed or signed in.
    public static func audit(actor: String, action: String, practice: String? = nil, in conn: isolated PostgresConnection) throws {
        try conn.execute(
            "INSERT INTO audit_log (actor, action, practice_ods) VALUES (\(String(actor.prefix(64))), \(action), \(practice))")
    }

    public static func endSession(token: String, in conn: isolated PostgresConnection) throws {
        try conn.execute("DELETE FROM web_session WHERE token_sha256 = \(hash(token))")
    }

    /// 256 random bits, hex.
    public static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
