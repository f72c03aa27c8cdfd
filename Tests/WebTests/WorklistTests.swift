import Clinical
import Clusters
@testable import RulesEngine
@testable import Storage
import Testing
@testable import Web

/// The HYP008 worklist of a hand-made practice: who is missing what, and who counts next year.
@Suite("The indicator worklist")
struct WorklistTests {
    static let library = try! ClusterLibrary.bundled()
    static let qof = try! RulesetLoader(library: library).loadAll()["qof-2025-26"]!

    /// Patients as (id, registered, first hypertension code, blood pressure readings).
    static func practice(_ patients: [(String, String, String, [(String, Float, Float)])]) -> Population {
        var p = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "Test"), dataTo: Day(year: 2026, month: 3, day: 31)!)
        let hyp = p.codes.intern(library["HYP_COD"]!.concepts.min()!)
        let bp = p.codes.intern(75_367_002)
        for (id, registered, diagnosed, readings) in patients {
            p.patientIDs.append(id)
            p.nhsNumbers.append(0)
            p.birthDates.append(Day(year: 1960, month: 5, day: 5)!)
            p.sexes.append(.female)
            p.deathDates.append(.distantFuture)
            p.lsoa.append(-1)
            p.ethnicity.append(-1)
            p.registrations.append(Registration(start: Day(iso: registered)!))
            p.registrationOffsets.append(Int32(p.registrations.count))
            var events = [Event(date: Day(iso: diagnosed)!, code: hyp)]
            events += readings.map { Event(date: Day(iso: $0.0)!, code: bp, value: $0.1, value2: $0.2) }
            p.events += events.sorted { $0.date < $1.date }
            p.eventOffsets.append(Int32(p.events.count))
            p.medicationOffsets.append(Int32(p.medications.count))
        }
        return try! p.build()
    }

    @Test("the risk order puts stored frailty first (recorded or estimated alike), then QRISK3, then patients with nothing stored")
    func riskOrder() throws {
        let population = Self.practice(["a", "b", "c", "d", "e"].map { ($0, "2010-01-01", "2015-01-01", [("2026-01-10", 150, 95)]) })
        let compiled = try CompiledRuleset(Self.qof, achievementDate: population.dataTo, library: Self.library)
        let run = PracticeHistory.Run(id: 1, practice: "A81001", ruleset: Self.qof.id, achievementDate: population.dataTo, extractID: 1, sourceName: "x")
        let list = Worklist(PracticeSnapshot(run: run, population: population, compiled: compiled), indicator: Self.qof.indicators.first { $0.id == "HYP008" }!,
                            library: Self.library)
        #expect(list.entries.count == 5)
        // a: nothing stored; b: QRISK3 12.5; c: estimated moderate frailty; d: recorded severe; e: QRISK3 31.0.
        let risk: [Int: PopulationStore.PatientRisk] = [1: .init(frailty: 0, qrisk3: 12.5), 2: .init(frailty: 7, qrisk3: -1),
                                                        3: .init(frailty: 4, qrisk3: -1), 4: .init(frailty: 0, qrisk3: 31)]
        #expect(list.ordered(.risk, missing: nil, worth: [:], risk: risk).map(\.patient) == ["d", "c", "e", "b", "a"])
        #expect(risk[3]!.words == "severe frailty (recorded)" && risk[2]!.words == "moderate frailty (estimated eFI)")
        #expect(risk[4]!.words == "QRISK3 31.0 %")
        let csv = list.csv(list.ordered(.risk, missing: nil, worth: [:], risk: risk), risk: risk)
        #expect(csv.contains(",risk\r\n") && csv.contains("severe frailty (recorded)"))
    }

    @Test("denominator patients not achieving are listed with their last reading; new patients count next year")
    func hyp008() throws {
        let population = Self.practice([
            ("above", "2010-01-01", "2015-01-01", [("2026-01-10", 150, 95)]),
            ("controlled", "2010-01-01", "2015-01-01", [("2026-02-01", 128, 80)]),
            ("no-reading", "2010-01-01", "2015-01-01", []),
            ("new-registration", "2025-12-01", "2015-01-01", []),
            ("new-diagnosis", "2010-01-01", "2025-11-01", []),
        ])
        let compiled = try CompiledRuleset(Self.qof, achievementDate: population.dataTo, library: Self.library)
        let run = PracticeHistory.Run(id: 1, practice: "A81001", ruleset: Self.qof.id, achievementDate: population.dataTo, extractID: 1, sourceName: "x")
        let snapshot = PracticeSnapshot(run: run, population: population, compiled: compiled)
        let hyp008 = Self.qof.indicators.first { $0.id == "HYP008" }!
        let list = Worklist(snapshot, indicator: hyp008, library: Self.library)
        #expect(list.entries.map(\.patient) == ["above", "no-reading"])
        let above = try #require(list.entries.first)
        #expect(above.missing.contains("at or below 140/90"))
        #expect(above.facts.contains { $0.contains("150/95 on 2026-01-10") })
        #expect(above.dueBy == Day(year: 2026, month: 3, day: 31)!)
        #expect(list.entries[1].facts.contains { $0.contains("none recorded") })
        #expect(list.newPatients.map(\.patient).sorted() == ["new-diagnosis", "new-registration"])
        #expect(Set(list.newPatients.compactMap(\.field)) == ["DIAG1_DT9M", "REG1_DAT9"])
        // The export carries the same patients, one line each after the header (CRLF lines, a byte order mark first
        // for Excel), with the date of birth; NHS numbers as people read them.
        let lines = list.csv(list.entries).split(whereSeparator: \.isNewline)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("\u{FEFF}patient_id,nhs_number,date_of_birth,"))
        #expect(lines[1].contains(",1960-05-05,"))
        #expect(Worklist.nhsNumber(9_434_765_919) == "943 476 5919" && Worklist.nhsNumber(0) == "")
        // Filtering keeps only matching gaps.
        #expect(Worklist(snapshot, indicator: hyp008, library: Self.library, filter: "150/95").entries.map(\.patient) == ["above"])
    }
}
