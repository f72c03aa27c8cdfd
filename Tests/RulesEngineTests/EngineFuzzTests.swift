import Clinical
import Clusters
import Foundation
import RulesEngine
import Synth
import Testing

/// No input, however strange, makes the engine trap: random patients with random dates (year 1 to the data-to
/// date), values (negative, huge, NaN) and codes from every cluster, on every shipped ruleset, at ordinary and
/// absurd achievement dates. Seeded and bounded (a few seconds).
@Suite("The engine on random input")
struct EngineFuzzTests {
    @Test("random records and dates on every shipped ruleset: counts stay consistent and nothing traps", arguments: [1, 2, 3] as [UInt64])
    func randomInput(seed: UInt64) throws {
        var rng = SynthRandom(seed: seed)  // seeded, so a failing case can be replayed
        let library = Fixtures.library
        let concepts = library.lists.values.flatMap { $0.concepts.prefix(3) }
        let dataTo = Day(year: 2026, month: 3, day: 31)!
        var p = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "Fuzz", pcnODS: "U12345"), dataTo: dataTo)
        func day() -> Day {
            switch rng.next() % 5 {
            case 0: return Day(year: 1, month: 1, day: 1)!.adding(days: Int(rng.next() % 1_000))
            case 1: return dataTo.adding(days: -Int(rng.next() % 400))
            default: return Day(daysSinceEpoch: Int32(truncatingIfNeeded: Int(rng.next() % 740_000)) - 719_000 + 20_000)
            }
        }
        func value() -> Float {
            [Float.nan, -1e30, -5, 0, 4.5, 48, 140, 1e30, Float.infinity][Int(rng.next() % 9)]
        }
        for i in 0..<400 {
            p.patientIDs.append("F\(i)")
            p.nhsNumbers.append(0)
            p.birthDates.append(min(day(), dataTo))
            p.sexes.append([Sex.male, .female, .indeterminate, .unknown][Int(rng.next() % 4)])
            p.deathDates.append(rng.next() % 10 == 0 ? dataTo.adding(days: -Int(rng.next() % 300)) : .distantFuture)
            p.lsoa.append(-1)
            p.ethnicity.append(-1)
            p.registrations.append(Registration(start: min(day(), dataTo), end: rng.next() % 8 == 0 ? dataTo.adding(days: -5) : .distantFuture))
            p.registrationOffsets.append(Int32(p.registrations.count))
            let events = (0..<Int(rng.next() % 30)).map { _ in
                Event(date: min(day(), dataTo), code: p.codes.intern(concepts[Int(rng.next() % UInt64(concepts.count))]), value: value(), value2: value())
            }.sorted { $0.date < $1.date }
            p.events += events
            p.eventOffsets.append(Int32(p.events.count))
            let meds = (0..<Int(rng.next() % 6)).map { _ in
                Medication(date: min(day(), dataTo), code: p.codes.intern(concepts[Int(rng.next() % UInt64(concepts.count))]))
            }.sorted { $0.date < $1.date }
            p.medications += meds
            p.medicationOffsets.append(Int32(p.medications.count))
        }
        let population = try p.build()
        for rs in Fixtures.rulesets.values {
            for achievement in [nil, Day(year: 1, month: 1, day: 1)!, Day(year: 9999, month: 12, day: 31)!] as [Day?] {
                let compiled = try CompiledRuleset(rs, achievementDate: achievement, library: library)
                let result = Engine(compiled).evaluate(population, patientOutcomes: true)
                for i in result.indicators {
                    #expect(i.numerator <= i.denominator && i.denominator <= max(i.registerSize, population.patientCount), "\(rs.id) \(i.id)")
                }
                _ = Engine(compiled).explain(population, patient: Int(rng.next() % 400), indicators: [], library: library)
            }
        }
    }
}
