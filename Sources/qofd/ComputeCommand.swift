import ArgumentParser
import CQRS
import Clinical
import Dispatch
import Extracts
import Foundation
import Synchronization
import Payments
import RulesEngine

/// `qofd compute`: evaluates a ruleset over extracts, without a database, to stdout.
struct ComputeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute",
        abstract: "Compute registers and indicators from extracts (no database); JSON or CSV on stdout.",
        discussion: "Practices are evaluated in parallel on all cores. The JSON shape is documented in deploy/compute-output.md.")

    @Option(name: .customLong("extract"), help: ArgumentHelp("An extract directory; repeat for several practices.", valueName: "dir"))
    var extracts: [String]

    @OptionGroup var rules: RuleOptions

    @Option(help: "Output format: json, csv (one row per indicator), cqrs (INDICATOR_VALUES layout) or cqrs-points (INDICATOR_ACHIEVED_POINTS).")
    var format: String = "json"

    @Flag(help: "Include each patient's outcome for each indicator (patient-identifiable: handle with care).")
    var patients = false

    @Flag(help: "Include points and pounds (achieved, available, at stake, patients for the next point) from the national figures.")
    var payments = false

    func run() throws {
        guard ["json", "csv", "cqrs", "cqrs-points"].contains(format) else {
            throw ValidationError("--format must be json, csv, cqrs or cqrs-points")
        }
        if payments && format != "json" {
            throw ValidationError("--payments adds points and pounds to --format json; the CSV of `qofd report` carries them for stored runs")
        }
        guard !extracts.isEmpty else { throw ValidationError("give at least one --extract DIR") }
        let library = try rules.library()
        let compiled = try rules.compiled(library: library)
        let engine = Engine(compiled)
        let loader = ExtractLoader()
        let slots = Slots<Result<PracticeResult, ExtractFailure>>(count: extracts.count)
        let dirs = extracts
        let withPatients = patients
        DispatchQueue.concurrentPerform(iterations: dirs.count) { i in
            let check = loader.load(URL(fileURLWithPath: dirs[i]))
            guard let population = check.population else {
                slots[i] = .failure(ExtractFailure(directory: dirs[i], problems: check.problems.fileProblems.map(\.description)))
                return
            }
            slots[i] = .success(engine.evaluate(population, patientOutcomes: withPatients))
        }
        var results: [PracticeResult] = []
        var failed = 0
        for i in 0..<dirs.count {
            switch slots[i]! {
            case .success(let r): results.append(r)
            case .failure(let f):
                failed += 1
                FileHandle.standardError.write(Data("rejected extract \(f.directory):\n  \(f.problems.joined(separator: "\n  "))\n".utf8))
            }
        }
        let output = ComputeOutput(ruleset: compiled.ruleset.id, rulesetSHA256: compiled.ruleset.sha256,
                                   achievementDate: compiled.achievementDate.description, clusterVersion: compiled.clusterVersion,
                                   missingClusters: compiled.missingClusters, practices: results)
        if format == "json" {
            var data = try output.json()
            if payments { data = try withPayments(data, results: results, ruleset: compiled.ruleset) }
            if compiled.ruleset.kind == .des { data = try withPCNs(data, results: results, ruleset: compiled.ruleset) }
            print(String(decoding: data, as: UTF8.self))
        } else if format == "cqrs" {
            print(CQRSFiles.values(results, ruleset: compiled.ruleset, achievementDate: compiled.achievementDate), terminator: "")
        } else if format == "cqrs-points" {
            // Achieved points as they are paid: income-protected indicators at last year's points.
            let national = try? rules.nationalFigures(compiled.ruleset.id)
            let paid = results.map { r in national.map { PaymentCalculator.asPaid(r, ruleset: compiled.ruleset, national: $0) } ?? r }
            print(CQRSFiles.points(paid, ruleset: compiled.ruleset, achievementDate: compiled.achievementDate), terminator: "")
        } else {
            print(output.csv(), terminator: "")
        }
        if failed > 0 { throw ExitCode(2) }
    }
}

extension ComputeCommand {
    /// Adds a `payment` object to every practice (see deploy/compute-output.md).
    func withPayments(_ data: Data, results: [PracticeResult], ruleset: Ruleset) throws -> Data {
        let national = try rules.nationalFigures(ruleset.id)
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            var practices = object["practices"] as? [[String: Any]]
        else { return data }
        let encoder = JSONEncoder()
        for (i, result) in results.enumerated() where i < practices.count {
            let payment = PaymentCalculator.practice(result, ruleset: ruleset, national: national)
            practices[i]["payment"] = try JSONSerialization.jsonObject(with: encoder.encode(payment))
        }
        object["practices"] = practices
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}

extension ComputeCommand {
    /// A DES ruleset pays PCNs: adds a `pcns` array, one PCN for each PCN code among the extracts, with the
    /// counts summed over its practices given here and the IIF points and pounds (see deploy/compute-output.md).
    func withPCNs(_ data: Data, results: [PracticeResult], ruleset: Ruleset) throws -> Data {
        let figures = try IIFNationalFigures.loadIfPresent(year: ruleset.id, directory: rules.nationalDirectory.map { URL(fileURLWithPath: $0) })
        guard var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return data }
        let byPCN = Dictionary(grouping: results.filter { $0.pcn != nil }, by: { $0.pcn! })
        object["pcns"] = byPCN.keys.sorted().map { code -> [String: Any] in
            let members = byPCN[code]!.map { PCNDESAchievement.Member(practice: $0.ods, listSize: $0.listSize, indicators: $0.indicators) }
            return PCNDESOutput.object(PCNDESAchievement.compute(pcn: code, members: members, ruleset: ruleset, figures: figures))
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}

struct ExtractFailure: Error {
    let directory: String
    let problems: [String]
}

/// Per-index result slots filled from `concurrentPerform`.
final class Slots<T: Sendable>: Sendable {
    private let items: Mutex<[T?]>
    init(count: Int) { items = Mutex(Array(repeating: nil, count: count)) }
    subscript(i: Int) -> T? {
        get { items.withLock { $0[i] } }
        set { items.withLock { $0[i] = newValue } }
    }
}
