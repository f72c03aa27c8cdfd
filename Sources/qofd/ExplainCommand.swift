import ArgumentParser
import Extracts
import Foundation
import RulesEngine

/// `qofd explain`: the rule-by-rule story of one patient.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain, rule by rule, why a patient is or is not on a register and in each indicator.")

    @Option(help: ArgumentHelp("The extract directory.", valueName: "dir"))
    var extract: String

    @Option(help: "The patient id as in the extract.")
    var patient: String

    @Option(help: "Only this indicator (repeatable); default all.")
    var indicator: [String] = []

    @OptionGroup var rules: RuleOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let library = try rules.library()
        let compiled = try rules.compiled(library: library)
        let check = ExtractLoader().load(URL(fileURLWithPath: extract))
        guard let population = check.population else {
            throw ValidationError("the extract is rejected: \(check.problems.fileProblems.map(\.description).joined(separator: "; "))")
        }
        guard let p = population.index(ofPatient: patient) else { throw ValidationError("no patient \(patient) in this extract") }
        let unknown = indicator.filter { id in !compiled.ruleset.indicators.contains { $0.id == id } }
        guard unknown.isEmpty else { throw ValidationError("unknown indicator \(unknown.joined(separator: ", ")) in \(compiled.ruleset.id)") }
        let explanation = Engine(compiled).explain(population, patient: p, indicators: Set(indicator), library: library)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(explanation), as: UTF8.self))
        } else {
            print(explanation.text)
        }
    }
}
