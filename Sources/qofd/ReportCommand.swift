import ArgumentParser
import Clinical
import Clusters
import Foundation
import Payments
import Reports
import RulesEngine
import Storage

/// `qofd report`: declaration reports for practices, a PCN, or everyone.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write declaration reports (HTML, CSV, JSON, FHIR MeasureReport) from the stored results.")

    @Option(help: "A practice (repeatable).") var practice: [String] = []
    @Option(help: "Every member practice of this PCN on the achievement date (and, for a DES ruleset, the PCN's own report).") var pcn: String?
    @Flag(help: "Every practice with results.") var all = false
    @Option(help: "Ruleset id.") var ruleset: String = "qof-2025-26"
    @Option(help: "Achievement date YYYY-MM-DD.") var achievementDate: String = "2026-03-31"
    @Option(help: "Formats, comma-separated: html, csv, json, fhir, cqrs.") var format: String = "html,csv,json,fhir,cqrs"
    @Option(help: "Directory to write into (one folder per practice).") var output: String
    @Flag(help: "Report the declared snapshot instead of the latest run.") var declared = false
    @Flag(help: "Add patient lists (FHIR subject-list). Patient-identifiable: needs --by, and is recorded in the audit log.")
    var subjectList = false
    @Option(help: "Who asks for a subject-list report (recorded in the audit log).") var by: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard achievementDate.count == 10, let day = Day(iso: achievementDate) else { throw ValidationError("--achievement-date must be YYYY-MM-DD") }
        let formats = try format.split(separator: ",").map { f -> ReportFormat in
            guard let v = ReportFormat(rawValue: f.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("unknown format \(f)") }
            return v
        }
        guard !practice.isEmpty || pcn != nil || all else { throw ValidationError("name --practice, --pcn or --all") }
        if subjectList && (by ?? "").isEmpty { throw ValidationError("a subject-list report is patient-identifiable: say who asks with --by") }
        let library = try ClusterLibrary.bundled()
        guard let rs = try RulesetLoader(library: library).loadAll()[ruleset] else { throw ValidationError("unknown ruleset \(ruleset)") }
        // ODS codes are upper case; a lower-case one typed by a person means the same practice.
        let (explicit, pcn, all, declared, subjects, by) = (practice.map { $0.uppercased() }, self.pcn?.uppercased(), self.all, self.declared,
                                                            self.subjectList, self.by ?? "")
        let out = URL(fileURLWithPath: output)
        let (written, missing) = try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            var practices = explicit
            if let pcn { practices += try await ResultsQuery.members(of: pcn, on: day, in: conn) }
            // The Network Contract DES is the PCN's own achievement: its report is the PCN's, beside its members'.
            if let pcn, rs.kind == .des { practices.append(pcn) }
            if all { practices += try await PracticeHistory.practicesWithRuns(ruleset: rs.id, achievementDate: day, in: conn) }
            var files: [URL] = []
            var missing: [String] = []
            for ods in Array(Set(practices)).sorted() {
                guard let data = try await ReportData.load(practice: ods, ruleset: rs, achievementDate: day, declared: declared,
                                                           subjects: subjects, in: conn) else {
                    FileHandle.standardError.write(Data("no \(declared ? "declaration" : "run") of \(rs.id) on \(day) for \(ods)\n".utf8))
                    missing.append(ods)
                    continue
                }
                files += try ReportWriter.write(data, formats: formats, to: out)
                if subjects {
                    try await AuditLog.record(actor: by, action: "subject-list-report", practice: ods, ruleset: rs.id, achievementDate: day,
                                              note: "patient-identifiable report written", in: conn)
                }
            }
            return (files, missing)
        }
        for f in written { print(f.path) }
        // A practice asked for by name with nothing to report is a failure, not an empty success.
        if !missing.isEmpty && !explicit.isEmpty && missing.contains(where: explicit.contains) { throw ExitCode(1) }
    }
}
