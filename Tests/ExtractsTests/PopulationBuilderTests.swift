import Clinical
import Clusters
import Extracts
import Foundation
import Synth
import Testing
import TestSupport

/// A population is only made by its builder, which refuses columns that do not fit together, so the
/// engine's unchecked loops never read past an array.
@Suite("Building a population")
struct PopulationBuilderTests {
    static func valid() -> PopulationBuilder {
        var b = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "T"), dataTo: Day(year: 2026, month: 3, day: 31)!)
        let code = b.codes.intern(38_341_003)
        b.addPatient(id: "P1", born: Day(year: 1960, month: 1, day: 1)!, sex: .female, registrations: [Registration(start: Day(year: 2000, month: 1, day: 1)!)],
                     events: [Event(date: Day(year: 2025, month: 6, day: 1)!, code: code), Event(date: Day(year: 2024, month: 6, day: 1)!, code: code)])
        b.addPatient(id: "P2", born: Day(year: 1970, month: 1, day: 1)!, sex: .male, registrations: [Registration(start: Day(year: 2001, month: 1, day: 1)!)])
        return b
    }

    @Test("a patient's records are put in date order, and the columns build a population")
    func builds() throws {
        let p = try Self.valid().build()
        #expect(p.patientCount == 2)
        #expect(p.eventRange(0).map { p.events[$0].date.year } == [2024, 2025])
        #expect(p.eventRange(1).isEmpty)
        #expect(p.brokenInvariant() == nil)
    }

    @Test("columns that do not fit together are refused with the reason", arguments: [
        "missing birth date", "offsets out of order", "offsets short of the records", "code outside the table", "events out of date order", "area outside the table",
    ])
    func refuses(_ fault: String) {
        var b = Self.valid()
        switch fault {
        case "missing birth date": b.birthDates.removeLast()
        case "offsets out of order": b.eventOffsets = [0, 2, 1]
        case "offsets short of the records": b.eventOffsets = [0, 1, 1]
        case "code outside the table": b.events[0].code = 7
        case "events out of date order": b.events.swapAt(0, 1)
        default: b.lsoa[0] = 3
        }
        #expect(throws: PopulationBuilder.Problem.self, "\(fault)") { try b.build() }
    }
}

/// Breakdowns need only who the patients are: a CSV extract can be read for its patients alone.
@Suite("Reading an extract's patients only")
struct PatientsOnlyTests {
    @Test("patients only: the same patients and demographics as a whole read, no records; a tampered patients file is still refused")
    func patientsOnly() throws {
        var o = Synthesizer.Options()
        o.seed = 6
        o.practices = 1
        o.patients = 200
        let base = TestFolders.make("patients-only")
        defer { try? FileManager.default.removeItem(at: base) }
        let dir = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: base)[0].directory
        let whole = try #require(ExtractLoader().load(dir).population)
        var loader = ExtractLoader()
        loader.patientsOnly = true
        let light = try #require(loader.load(dir).population)
        #expect(light.patientIDs == whole.patientIDs)
        #expect(light.birthDates == whole.birthDates && light.sexes == whole.sexes && light.lsoa == whole.lsoa && light.ethnicity == whole.ethnicity)
        #expect(light.events.isEmpty && light.medications.isEmpty && light.registrations.isEmpty)
        #expect(light.brokenInvariant() == nil)
        let patients = dir.appending(path: "patients.csv")
        try Data((try String(contentsOf: patients, encoding: .utf8) + "").replacingOccurrences(of: ",F,", with: ",M,").utf8).write(to: patients)
        #expect(loader.load(dir).population == nil, "the manifest's checksum still guards the file read")
    }
}
