import Clinical
import Clusters
import Extracts
import Foundation
import ReferenceData
import Synth
import Testing
import TestSupport

/// A population in a form that does not depend on reading order (codes as concepts, records sorted).
struct Normalized: Hashable {
    struct Patient: Hashable {
        var nhs: UInt64, birth: Day, sex: UInt8, death: Day, lsoa: String?, ethnicity: UInt64?
        var registrations: [[Int32]]
        var events: [[UInt64]]
        var medications: [[UInt64]]
    }
    var patients: [String: Patient]

    init(_ p: Population) {
        var out: [String: Patient] = [:]
        for i in 0..<p.patientCount {
            out[p.patientIDs[i]] = Patient(
                nhs: p.nhsNumbers[i], birth: p.birthDates[i], sex: p.sexes[i].rawValue, death: p.deathDates[i],
                lsoa: p.lsoa[i] < 0 ? nil : p.lsoaCodes[Int(p.lsoa[i])],
                ethnicity: p.ethnicity[i] < 0 ? nil : p.codes[p.ethnicity[i]],
                registrations: p.registrationRange(i).map { [p.registrations[$0].start.daysSinceEpoch, p.registrations[$0].end.daysSinceEpoch] }.sorted { $0.lexicographicallyPrecedes($1) },
                events: p.eventRange(i).map { e in
                    let x = p.events[e]
                    return [UInt64(bitPattern: Int64(x.date.daysSinceEpoch)), p.codes[x.code], UInt64(x.value.bitPattern), UInt64(x.value2.bitPattern)]
                }.sorted { $0.lexicographicallyPrecedes($1) },
                medications: p.medicationRange(i).map { m in
                    let x = p.medications[m]
                    return [UInt64(bitPattern: Int64(x.date.daysSinceEpoch)), p.codes[x.code], UInt64(x.quantity.bitPattern)]
                }.sorted { $0.lexicographicallyPrecedes($1) })
        }
        patients = out
    }
}

@Suite("Synthetic extracts")
struct SynthRoundTripTests {
    static let synth: Synthesizer = {
        try! Synthesizer(library: ClusterLibrary.bundled(), deprivation: Deprivation.imd2025())
    }()

    func temporary() -> URL {
        TestFolders.make("synth")
    }

    @Test("the same population written as CSV and as FHIR NDJSON loads to identical content")
    func csvAndFHIRAreEquivalent() throws {
        var o = Synthesizer.Options()
        o.seed = 42
        o.practices = 2
        o.patients = 3_000
        let csv = try Self.synth.write(o, to: temporary())
        o.encoding = .fhirNDJSON
        let fhir = try Self.synth.write(o, to: temporary())
        for (a, b) in zip(csv, fhir) {
            let left = ExtractLoader().load(a.directory)
            let right = ExtractLoader().load(b.directory)
            #expect(left.problems.listed.isEmpty)
            #expect(right.problems.listed.isEmpty)
            let l = try #require(left.population)
            let r = try #require(right.population)
            #expect(l.patientCount == a.patients)
            #expect(l.events.count > a.patients)
            #expect(Normalized(l) == Normalized(r))
        }
    }

    @Test("generated extracts always validate and round-trip through the CSV writer", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func generatedExtractsValidateAndRoundTrip(_ seed: UInt64) throws {
        var o = Synthesizer.Options()
        o.seed = seed
        o.practices = Int(seed % 3) + 1
        o.pcns = 1
        o.patients = 500 + Int(seed) * 317
        o.dataTo = Day(year: 2024 + Int(seed % 3), month: [3, 9, 12][Int(seed % 3)], day: [31, 30, 1][Int(seed % 3)])!
        let written = try Self.synth.write(o, to: temporary())
        #expect(written.map(\.patients).reduce(0, +) == o.patients)
        for w in written {
            let check = ExtractLoader(maxRowProblemFraction: 0).load(w.directory)
            #expect(check.problems.listed.isEmpty, "\(check.problems.listed.prefix(3))")
            let population = try #require(check.population)
            #expect(population.patientCount == w.patients)
            let again = temporary()
            _ = try CSVExtractWriter.write(population, to: again)
            let reloaded = try #require(ExtractLoader(maxRowProblemFraction: 0).load(again).population)
            #expect(Normalized(reloaded) == Normalized(population))
        }
    }

    @Test("the same seed gives byte-identical extracts")
    func deterministic() throws {
        var o = Synthesizer.Options()
        o.seed = 7
        o.practices = 1
        o.patients = 800
        let a = try Self.synth.write(o, to: temporary())[0]
        let b = try Self.synth.write(o, to: temporary())[0]
        for file in ["manifest.json", "patients.csv", "events.csv", "medications.csv", "registrations.csv"] {
            #expect(try Data(contentsOf: a.directory.appending(path: file)) == Data(contentsOf: b.directory.appending(path: file)))
        }
    }

    @Test("register prevalence is close to England's on a large practice")
    func prevalence() throws {
        var o = Synthesizer.Options()
        o.seed = 11
        o.practices = 1
        o.patients = 20_000
        let w = try Self.synth.write(o, to: temporary())[0]
        let p = try #require(ExtractLoader().load(w.directory).population)
        let library = try ClusterLibrary.bundled()
        func share(_ cluster: String) -> Double {
            let codes = library[cluster]!.concepts
            var n = 0
            for i in 0..<p.patientCount where p.isRegisteredAndAlive(i, on: p.dataTo) {
                if p.eventRange(i).contains(where: { codes.contains(p.codes[p.events[$0].code]) }) { n += 1 }
            }
            return Double(n) / Double(p.patientCount)
        }
        // Diagnosis codes (before resolution) over the whole list: within a loose band around the target.
        #expect((0.12...0.18).contains(share("HYP_COD")))
        #expect((0.045...0.085).contains(share("DM_COD")))
        #expect((0.045...0.09).contains(share("AST_COD")))
    }
}
