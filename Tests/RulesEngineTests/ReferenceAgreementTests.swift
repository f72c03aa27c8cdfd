import Clinical
import Clusters
import Foundation
import RulesEngine
import Synth
import Testing

/// The optimised engine and the plain reference evaluator agree on every outcome, field and count, for random
/// patients and records over every shipped ruleset (ehrQL's generative tests, for us). Seeded: a failure
/// names its seed, ruleset and patient, and `QOFD_GENERATIVE_SEED` replays it.
@Suite("The engine agrees with the reference evaluator")
struct ReferenceAgreementTests {
    static let seeds: [UInt64] = ProcessInfo.processInfo.environment["QOFD_GENERATIVE_SEED"].flatMap(UInt64.init).map { [$0] } ?? [1, 2]

    @Test("random patients on every shipped ruleset: the same registers, counts, fields, rule funnels and patient outcomes",
          arguments: seeds)
    func agree(seed: UInt64) throws {
        let started = Date()
        var patients = 0
        for id in Fixtures.rulesets.keys.sorted() {
            let ruleset = Fixtures.rulesets[id]!
            var rng = SynthRandom(seed: seed &* 7919 &+ UInt64(id.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xffff))
            // The year end and a day inside the year (a mid-season run), so windows cut records both ways.
            let yearEnd = ruleset.payPeriodEnd
            let midYear = ruleset.payPeriodStart.adding(days: rng.int(30...300))
            for achievement in [yearEnd, midYear] {
                let population = RandomPractice(ruleset: ruleset, library: Fixtures.library, achievement: achievement).make(patients: 1_200, &rng)
                patients += population.patientCount
                let engine = Engine(try CompiledRuleset(ruleset, achievementDate: achievement, library: Fixtures.library))
                    .evaluate(population, patientOutcomes: true)
                let reference = ReferenceEvaluator(ruleset, achievementDate: achievement, library: Fixtures.library).evaluate(population)
                let context = "seed \(seed), \(id) on \(achievement)"
                #expect(engine.listSize == reference.listSize, "\(context): list size")
                #expect(engine.registers == reference.registers, "\(context): registers")
                for (a, b) in zip(engine.indicators, reference.indicators) where a != b {
                    Issue.record("\(context): \(a.id) engine \(a.denominator)/\(a.numerator) \(a.fields) vs reference \(b.denominator)/\(b.numerator) \(b.fields)")
                }
                let key = { (o: PatientOutcome) in "\(o.indicator)|\(o.patient)" }
                let mine = Dictionary(uniqueKeysWithValues: engine.patients!.map { (key($0), $0) })
                let theirs = Dictionary(uniqueKeysWithValues: reference.patients!.map { (key($0), $0) })
                #expect(mine.count == theirs.count, "\(context): patients with an outcome")
                let differing = theirs.filter { mine[$0.key] != $0.value }.keys.sorted()
                for k in differing.prefix(5) {
                    Issue.record("\(context): \(k) engine \(String(describing: mine[k])) vs reference \(String(describing: theirs[k]))")
                }
                #expect(engine.indicators.contains { $0.numerator > 0 }, "\(context): the random practice reaches some numerators")
                // An explanation walks the same chains: its verdict for each indicator is the engine's outcome.
                let explainer = Engine(try CompiledRuleset(ruleset, achievementDate: achievement, library: Fixtures.library)).explainer(population)
                for p in stride(from: 0, to: population.patientCount, by: 20) {
                    let explanation = explainer.explain(patient: p)
                    let told = explanation.outcomes
                    for indicator in ruleset.indicators where explanation.inPopulation {
                        let verdict: String? = switch mine["\(indicator.id)|\(population.patientIDs[p])"]?.outcome {
                        case .numerator: "achieved (numerator)"
                        case .denominator: "in the denominator, not yet achieved"
                        case .pca: "personalised care adjustment"
                        case .excluded: "excluded"
                        default: "not on"
                        }
                        if let verdict, told[indicator.id]?.hasPrefix(verdict) != true {
                            Issue.record("\(context): explanation of \(population.patientIDs[p]) for \(indicator.id) says \(told[indicator.id] ?? "nothing"), engine \(verdict)")
                        }
                        // Explaining one indicator alone (as a worklist does) works out only its fields, and says the same.
                        if p % 60 == 0, let verdict, explainer.explain(patient: p, indicators: [indicator.id]).outcomes[indicator.id]?.hasPrefix(verdict) != true {
                            Issue.record("\(context): explanation of \(population.patientIDs[p]) for \(indicator.id) alone differs from the engine's \(verdict)")
                        }
                    }
                }
            }
        }
        print("reference agreement: seed \(seed), \(patients) patients over \(Fixtures.rulesets.count) rulesets in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}

/// A practice of random patients whose records are drawn from the ruleset's own clusters, on a small set of
/// dates around the year (so same-day ties, window edges and month ends come up often), with values that
/// include none, pairs, ties and extremes.
struct RandomPractice {
    let concepts: [UInt64]
    let days: [Day]
    let achievement: Day

    init(ruleset: Ruleset, library: ClusterLibrary, achievement: Day) {
        let compiled = try! CompiledRuleset(ruleset, achievementDate: achievement, library: library)
        let names = Set(ruleset.fields.flatMap(\.clusters)).union(ruleset.clusters.keys)
        concepts = names.sorted().flatMap { (compiled.concepts(ofCluster: $0) ?? []).sorted().prefix(4) } + [1, 2]
        self.achievement = achievement
        // Window edges: the pay period's ends, a day either side, shifts of months and years from the end.
        var days = [ruleset.payPeriodStart, ruleset.payPeriodEnd, achievement] + Array(ruleset.keyDates.values)
        for d in days { days += [d.adding(days: -1), d.adding(days: 1)] }
        for m in [1, 3, 6, 9, 12, 15, 18, 24, 36, 60, 120] { days.append(achievement.adding(months: -m)) }
        days += [Day(iso: "2024-02-29")!, Day(iso: "1999-12-31")!, Day(iso: "2025-08-31")!]
        self.days = days
    }

    func make(patients: Int, _ rng: inout SynthRandom) -> Population {
        var p = PopulationBuilder(practice: PracticeInfo(ods: "G00001", name: "Generated", pcnODS: "U00001"), dataTo: achievement)
        let values: [Float] = [.nan, .nan, 0, 5, 6.5, 7.5, 20, 48, 58, 59, 75, 80, 90, 120, 140, 149, 150, 160, 1e6]
        for i in 0..<patients {
            p.patientIDs.append("P\(i)")
            p.nhsNumbers.append(0)
            let age = rng.int(0...105)
            var born = achievement.adding(years: -age).adding(days: -rng.int(-200...200))
            if rng.chance(0.05) { born = Day(iso: rng.pick(["2000-02-29", "1960-02-29", "1944-08-31", "2024-10-31", "1955-03-31"]))! }
            p.birthDates.append(born)
            p.sexes.append(rng.pick([Sex.male, .female, .female, .male, .indeterminate, .unknown]))
            p.deathDates.append(rng.chance(0.03) ? rng.pick(days) : .distantFuture)
            p.lsoa.append(-1)
            p.ethnicity.append(rng.chance(0.5) ? p.codes.intern(rng.pick(concepts)) : -1)
            // Most registered throughout; some joined late, left, or came back.
            let joined = rng.chance(0.8) ? born.adding(days: rng.int(0...3_000)) : rng.pick(days)
            if rng.chance(0.1) { p.registrations.append(Registration(start: born, end: rng.pick(days))) }
            p.registrations.append(Registration(start: max(joined, born), end: rng.chance(0.05) ? rng.pick(days) : .distantFuture))
            p.registrationOffsets.append(Int32(p.registrations.count))
            let events = (0..<rng.int(0...40)).map { _ in
                let pair = rng.chance(0.3)
                return Event(date: rng.pick(days), code: p.codes.intern(rng.pick(concepts)), value: rng.pick(values), value2: pair ? rng.pick(values) : .nan)
            }.sorted { $0.date < $1.date }
            p.events += events
            p.eventOffsets.append(Int32(p.events.count))
            let medications = (0..<rng.int(0...8)).map { _ in
                Medication(date: rng.pick(days), code: p.codes.intern(rng.pick(concepts)), quantity: rng.pick(values))
            }.sorted { $0.date < $1.date }
            p.medications += medications
            p.medicationOffsets.append(Int32(p.medications.count))
        }
        return try! p.build()
    }
}
