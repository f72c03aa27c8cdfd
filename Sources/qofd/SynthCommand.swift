import ArgumentParser
import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import Synth

/// `qofd synth`: writes realistic synthetic extracts (seeded, deterministic).
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate synthetic extracts for N practices in M PCNs.",
        discussion: """
            English age/sex structure, registration churn and deaths, long-term conditions near England's \
            published QOF prevalence, and the monitoring a practice records at realistic, imperfect rates, \
            coded with real SNOMED CT and dm+d concepts. The same seed gives the same extracts.
            """)

    @Option(help: "Directory to write one extract directory per practice into.")
    var output: String

    @Option(help: "Number of practices.")
    var practices: Int = 3

    @Option(help: "Number of PCNs the practices are grouped into.")
    var pcns: Int = 1

    @Option(help: "Total patients across all practices.")
    var patients: Int = 30_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Data-to (achievement) date, YYYY-MM-DD.")
    var dataTo: String = "2026-03-31"

    @Option(help: "Encoding: csv or fhir-ndjson.")
    var encoding: String = "csv"

    func run() throws {
        guard let day = Day(iso: dataTo), dataTo.count == 10 else { throw ValidationError("--data-to must be a date YYYY-MM-DD") }
        guard let enc = Manifest.Encoding(rawValue: encoding) else { throw ValidationError("--encoding must be csv or fhir-ndjson") }
        guard practices >= 1, pcns >= 1, pcns <= practices, patients >= practices else {
            throw ValidationError("need at least one practice, 1 ≤ PCNs ≤ practices, and at least one patient per practice")
        }
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = practices
        o.pcns = pcns
        o.patients = patients
        o.dataTo = day
        o.encoding = enc
        let synth = Synthesizer(library: try ClusterLibrary.bundled(), deprivation: try Deprivation.imd2025())
        let start = ContinuousClock.now
        // Long work on a terminal says how far it has got (nothing when output goes to a file or a pipe).
        let tty = isatty(2) == 1 && patients >= 100_000
        let report: @Sendable (Int, Int) -> Void = { done, total in
            FileHandle.standardError.write(Data("\rsynth: \(done) of \(total) practices written".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        }
        let written = try synth.write(o, to: URL(fileURLWithPath: output), progress: tty ? report : nil)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        for w in written {
            print("\(w.directory.path)  \(w.practice.ods) \(w.practice.name), \(w.practice.pcnODS ?? "-"), \(w.patients) patients")
        }
        print(String(format: "%d extracts, %d patients in %.1f s", written.count, patients, seconds))
    }
}
