import ArgumentParser
import Clinical
import Payments
import Clusters
import Extracts
import Foundation
import ReferenceData
import RulesEngine
import Storage

/// `qofd flu-calllist`: who to invite, in order. Patient-identifiable: opt-in and audited.
struct FluCallListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flu-calllist",
        abstract: "Patients in each flu cohort not yet vaccinated and not declined, ordered for outreach, as CSV for a recall system.",
        discussion: """
            Order: care-home residents, aged 65+ (oldest first), at risk 18-64, pregnant, household contacts, carers, \
            children 2-3; within each, the most deprived areas first (IMD 2025 decile of the patient's LSOA). \
            A patient eligible for several cohorts appears once, under the first. The list holds NHS numbers: \
            writing it needs --by and is recorded in the audit log.
            """)

    @Option(help: ArgumentHelp("The practice's extract directory.", valueName: "dir")) var extract: String
    @Option(help: "Season ruleset.") var season: String = "flu-2025-26"
    @Option(help: "Who asks for the list (recorded in the audit log).") var by: String
    @Option(help: "CSV file to write.") var output: String
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--by is required: the list is patient-identifiable") }
        let library = try ClusterLibrary.bundled()
        guard let rs = try RulesetLoader(library: library).loadAll()[season] else { throw ValidationError("unknown season \(season)") }
        guard let callList = rs.callList else { throw ValidationError("\(season) has no call list (its rule file names none under call_list:)") }
        let check = ExtractLoader().load(URL(fileURLWithPath: extract))
        guard let population = check.population else { throw ValidationError("the extract is rejected") }
        let compiled = try CompiledRuleset(rs, achievementDate: min(population.dataTo, rs.payPeriodEnd), library: library)
        let result = Engine(compiled).evaluate(population, patientOutcomes: true)
        let imd = try Deprivation.imd2025()
        let entries = FluCallList.build(result, callList: callList, population: population, ageOn: compiled.ageOn, deciles: imd.areas.mapValues(\.decile))
        let csv = FluCallList.csv(entries)
        let practice = population.practice.ods
        let (who, list) = (by, season)
        // The file first (owner-only: it is patient-identifiable), then the audit row that says it was written.
        let url = URL(fileURLWithPath: output)
        do {
            try Data(csv.utf8).write(to: url, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        } catch {
            throw ValidationError("cannot write \(output): \((error as? CocoaError)?.underlying.map { "\($0.localizedDescription)" } ?? "the folder is missing or not writable")")
        }
        try await database.withConnection { conn in
            try await Migrator().migrate(on: conn)
            try await AuditLog.record(actor: who, action: "flu-call-list", practice: practice, ruleset: list,
                                      note: "patient-identifiable call list written", details: ["patients": String(entries.count)], in: conn)
        }
        print("Wrote \(entries.count) patients to \(output) (recorded in the audit log as asked for by \(by)).")
    }
}
