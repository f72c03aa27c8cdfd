import ArgumentParser
import Clinical
import Foundation
import Storage

/// Which achievement a declaration command is about.
struct SubjectOptions: ParsableArguments {
    @Option(help: "The practice's ODS code.")
    var practice: String?

    @Option(help: "The PCN's ODS code instead, for a PCN's Network Contract DES achievement (e.g. --ruleset des-2025-26).")
    var pcn: String?

    @Option(help: "Ruleset id.")
    var ruleset: String = "qof-2025-26"

    @Option(help: "Achievement date YYYY-MM-DD (default: 31 March of the ruleset's year).")
    var achievementDate: String?

    @Option(help: "Who is acting (recorded in the audit log).")
    var by: String

    var subject: DeclarationStore.Subject {
        get throws {
            let date = achievementDate ?? ruleset.split(separator: "-").last.map { "20\($0)-03-31" } ?? ""
            guard date.count == 10, let day = Day(iso: date) else { throw ValidationError("--achievement-date must be YYYY-MM-DD") }
            guard let subject = (practice ?? pcn)?.uppercased(), (practice == nil) != (pcn == nil) else {
                throw ValidationError("give --practice ODS or --pcn ODS (one of them)")
            }
            return .init(practice: subject, ruleset: ruleset, achievementDate: day)
        }
    }
}

/// `qofd declare`: the practice declares its latest figures.
struct DeclareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "declare", abstract: "Declare a practice's achievement: freeze the latest run's figures for commissioner approval.")
    @OptionGroup var subject: SubjectOptions
    @Option(help: "A note to go with the declaration.") var note: String?
    @Flag(help: "Declare even though some indicators rest on missing code lists (recorded in the audit log with the indicators).")
    var acceptIncomplete = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let s = try subject.subject
        let by = subject.by
        let note = self.note
        let accept = acceptIncomplete
        let snapshot = try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            return try await conn.withTransaction { c in try DeclarationStore.declare(s, by: by, note: note, acceptIncomplete: accept, in: c) }
        }
        print("Declared \(s.practice) \(s.ruleset) \(s.achievementDate) (run \(snapshot.runID), snapshot \(snapshot.sha256.prefix(16))…): awaiting commissioner approval.")
    }
}

/// `qofd approve`: the commissioner approves.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a declared achievement (commissioner).")
    @OptionGroup var subject: SubjectOptions
    @Option(help: "A note.") var note: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let s = try subject.subject
        let by = subject.by
        let note = self.note
        try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            try await conn.withTransaction { c in try DeclarationStore.approve(s, by: by, note: note, in: c) }
        }
        print("Approved \(s.practice) \(s.ruleset) \(s.achievementDate).")
    }
}

/// `qofd return`: the commissioner returns a declaration to the practice.
struct ReturnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "return", abstract: "Return a declaration to the practice, with a reason (commissioner).")
    @OptionGroup var subject: SubjectOptions
    @Option(help: "Why it is returned (required).") var reason: String = ""
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let s = try subject.subject
        let by = subject.by
        let reason = self.reason
        try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            try await conn.withTransaction { c in try DeclarationStore.returnToPractice(s, by: by, reason: reason, in: c) }
        }
        print("Returned \(s.practice) \(s.ruleset) \(s.achievementDate) to the declarer.")
    }
}

/// `qofd audit`: the append-only audit trail.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Print the audit trail of declarations and approvals.")
    @Option(help: "Only this practice.") var practice: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let practice = self.practice
        let entries = try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            return try await DeclarationStore.auditTrail(practice: practice, in: conn)
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try e.encode(entries), as: UTF8.self))
            return
        }
        for e in entries {
            print("\(e.at)  \(e.actor)  \(e.action)  \(e.practice ?? "-") \(e.ruleset ?? "") \(e.achievementDate ?? "")  "
                  + "\(e.from ?? "-") -> \(e.to ?? "-")\(e.note.map { "  \"\($0)\"" } ?? "")\(e.sha256.map { "  \($0.prefix(12))…" } ?? "")")
        }
    }
}
