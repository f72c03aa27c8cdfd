import ArgumentParser
import Foundation
import Postgres
import Storage
import Web

/// `qofd user`: the web view's accounts.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the web view's accounts (who sees which practices, and who may open patient pages).",
        subcommands: [UserAdd.self, UserList.self, UserDisable.self])
}

struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an account, or change one (role, scope, patient access, password).",
        discussion: """
            Roles: practice (sees one practice, --scope its ODS code), pcn (a PCN lead: the PCN's member practices, \
            --scope the PCN's ODS code), commissioner (every practice, no --scope). The password is read from \
            --password-file or standard input, never from the command line; it is stored as a bcrypt hash. \
            Omit both for an account that signs in only through a trusted proxy (web_auth: proxy). \
            --right gives a part in the declaration workflow on the web: declare (a practice account, for its \
            practice's QOF; a PCN lead account, the PCN's nominated person, for the PCN's Network Contract DES) or \
            approve (a commissioner: approve or return declarations); an account holds one at most, \
            and saving an account without --right takes its right away.
            """)

    @Argument(help: "The username (letters, digits, . _ @ -).") var username: String
    @Option(help: "practice, pcn or commissioner.") var role: String
    @Option(help: "The practice or PCN ODS code (not for commissioners).") var scope: String?
    @Flag(help: "Allow patient-identifiable pages (worklists, explanations, exports); every view is audited.") var patientAccess = false
    @Option(help: "declare (practice accounts) or approve (commissioners): the account's part in declaring on the web.")
    var right: String?
    @Option(help: ArgumentHelp("A file holding the password (first line).", valueName: "file")) var passwordFile: String?
    @Flag(help: "Read the password from standard input (first line).") var passwordStdin = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let role = WebAccounts.Role(rawValue: role) else { throw ValidationError("--role must be practice, pcn or commissioner") }
        guard (role == .commissioner) == (scope == nil) else {
            throw ValidationError(role == .commissioner ? "a commissioner has no --scope" : "--scope is required for the \(role.rawValue) role")
        }
        let scope = self.scope?.uppercased()
        let right = try self.right.map { text in
            guard let r = WebAccounts.DeclarationRight(rawValue: text) else { throw ValidationError("--right must be declare or approve") }
            guard r.fits(role) else {
                throw ValidationError(r == .declare ? "a commissioner cannot declare (--role practice or pcn)" : "only a commissioner may approve (--role commissioner)")
            }
            return r
        }
        if let scope, role == .practice, scope.range(of: "^[A-Z][0-9]{5}$", options: .regularExpression) == nil {
            throw ValidationError("--scope for the practice role must be a practice ODS code such as A81001")
        }
        if let scope, role == .pcn, scope.range(of: "^U[0-9]{5}$", options: .regularExpression) == nil {
            throw ValidationError("--scope for the pcn role must be a PCN ODS code such as U12345")
        }
        guard username.range(of: "^[A-Za-z0-9._@-]{1,64}$", options: .regularExpression) != nil else {
            throw ValidationError("the username may hold letters, digits and . _ @ - (at most 64)")
        }
        var password: String?
        if let file = passwordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            password = text.split(whereSeparator: \.isNewline).first.map(String.init)
        } else if passwordStdin {
            password = readLine(strippingNewline: true)
        }
        if let p = password, p.count < 10 { throw ValidationError("the password must be at least 10 characters") }
        let user = WebAccounts.User(
            username: username, role: role, scope: scope, patientAccess: patientAccess, right: right, passwordHash: password.map { WebApp.hashPassword($0) })
        let known = try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            // An organisation already known must be of the role's kind (a PCN lead is never scoped to a practice).
            var kind: Organisations.Kind?
            if let scope { kind = try await Organisations.kind(of: scope, in: conn) }
            if let kind, let scope, kind != (role == .pcn ? .pcn : .practice) {
                throw ValidationError("\(scope) is a \(kind == .pcn ? "PCN" : "practice"), not a \(role == .pcn ? "PCN" : "practice")")
            }
            try await conn.withTransaction { c in try WebAccounts.save(user, in: c) }
            return kind != nil
        }
        if let scope, !known {
            FileHandle.standardError.write(Data("note: \(scope) is not yet known to qofd (no extract has named it); the account sees it once its first extract arrives\n".utf8))
        }
        print("saved \(username): \(role.rawValue)\(scope.map { " \($0)" } ?? "")\(patientAccess ? ", patient access" : "")\(right.map { ", may \($0.rawValue)" } ?? "")\(password == nil ? ", no password (proxy sign-in only, or unchanged)" : "")")
    }
}

struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the web view's accounts.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let users = try await database.withConnection { conn in try await conn.withTransaction { c in try WebAccounts.users(in: c) } }
        for u in users {
            print("\(u.username)\t\(u.role.rawValue)\t\(u.scope ?? "-")\t\(u.patientAccess ? "patient access" : "aggregate only")\t\(u.right.map { "may \($0.rawValue)" } ?? "-")\t\(u.disabled ? "disabled" : "active")")
        }
    }
}

struct UserDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an account (its sessions stop working at once).")
    @Argument(help: "The username.") var username: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let name = username
        let found = try await database.withConnection { conn in
            try await conn.withTransaction { c -> Bool in
                guard var u = try WebAccounts.user(name, in: c) else { return false }
                u.disabled = true
                u.passwordHash = nil
                try WebAccounts.save(u, in: c)
                return true
            }
        }
        guard found else { throw ValidationError("no account \(username)") }
        print("disabled \(username)")
    }
}
