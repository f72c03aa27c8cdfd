import ArgumentParser
import Clinical
import Clusters
import Extracts
import Foundation
import Payments

/// `qofd ios`: vaccinations given per programme per month, priced per dose.
struct ItemOfServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ios", abstract: "Vaccinations given by the practice per programme per month, with the fee per dose (the basis of CQRS claims).")

    @Option(help: ArgumentHelp("The practice's extract directory.", valueName: "dir")) var extract: String
    @Option(help: "First day, YYYY-MM-DD.") var from: String = "2025-04-01"
    @Option(help: "Last day, YYYY-MM-DD.") var to: String = "2026-03-31"
    @Option(help: "Fee year, e.g. 2025-26.") var year: String = "2025-26"
    @Flag(help: "CSV instead of a table.") var csv = false

    func run() throws {
        guard from.count == 10, to.count == 10, let a = Day(iso: from), let b = Day(iso: to) else { throw ValidationError("dates must be YYYY-MM-DD") }
        let check = ExtractLoader().load(URL(fileURLWithPath: extract))
        guard let population = check.population else { throw ValidationError("the extract is rejected") }
        let ios = try ItemOfService.load(year: year, library: try ClusterLibrary.bundled())
        let lines = ios.count(population, from: a, to: b)
        if csv {
            print("practice,programme,month,doses,pounds,held")
            for l in lines {
                print(CSVCell.row([population.practice.ods, l.programme, l.month, String(l.doses), String(format: "%.2f", l.pounds), l.held ?? ""]))
            }
            return
        }
        print("\(population.practice.ods): vaccinations given by the practice, \(from) to \(to) (fees unverified: see the README)")
        let claimable = lines.filter { $0.held == nil }
        for l in claimable { print(String(format: "  %-13@ %@  %5d doses  £%9.2f", l.programme, l.month, l.doses, l.pounds)) }
        print(String(format: "  total %d doses, £%.2f", claimable.reduce(0) { $0 + $1.doses }, claimable.reduce(0) { $0 + $1.pounds }))
        let held = lines.filter { $0.held != nil }
        if !held.isEmpty {
            print("  held, not claimable (check the date or the patient's cohort):")
            for l in held { print(String(format: "  %-13@ %@  %5d doses  %@", l.programme, l.month, l.doses, l.held!)) }
        }
    }
}
