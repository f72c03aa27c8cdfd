import Clinical
import Clusters
import Foundation
import Payments
import RulesEngine
import Testing

@Suite("QOF payment arithmetic")
struct PaymentCalculatorTests {
    static let library: ClusterLibrary = try! ClusterLibrary.bundled()
    static let ruleset: Ruleset = try! RulesetLoader(library: library).loadAll()["qof-2025-26"]!

    /// A national picture where an average practice has CPI = 1 and HYP prevalence APDF = 1.
    static let national = NationalFigures(
        year: "qof-2025-26", pointValue: 225.49, averageListSize: 10_000, aspirationPercent: 80,
        prevalence: ["HYP": .init(register: "HYP_REG", percent: 15)], unweightedGroups: ["BP"])

    static func result(listSize: Int, hypRegister: Int, denominator: Int, numerator: Int, bpDenominator: Int = 0) -> PracticeResult {
        let a = denominator > 0 ? 100 * Double(numerator) / Double(denominator) : nil
        return PracticeResult(
            ods: "A81001", pcn: nil, listSize: listSize,
            registers: [RegisterResult(id: "HYP_REG", size: hypRegister), RegisterResult(id: "LIST", size: listSize)],
            indicators: [
                IndicatorResult(id: "HYP008", register: "HYP_REG", registerSize: hypRegister, denominator: denominator, numerator: numerator,
                                fields: [:], fieldKinds: [:], achievement: a, points: points(achievement: a, lower: 40, upper: 85, max: 38),
                                maxPoints: 38, ruleCounts: []),
                IndicatorResult(id: "BP002", register: "LIST", registerSize: listSize, denominator: bpDenominator, numerator: bpDenominator,
                                fields: [:], fieldKinds: [:], achievement: bpDenominator > 0 ? 100 : nil, points: bpDenominator > 0 ? 15 : 0,
                                maxPoints: 15, ruleCounts: []),
            ],
            patients: nil)
    }

    @Test("HYP008 at 70 % (thresholds 40–85) earns 25.33 of 38 points: £5,712.41 for an average practice")
    func handWorked() {
        let pay = PaymentCalculator.practice(Self.result(listSize: 10_000, hypRegister: 1_500, denominator: 1_000, numerator: 700),
                                             ruleset: Self.ruleset, national: Self.national)
        let hyp = pay.indicators.first { $0.id == "HYP008" }!
        #expect(abs(hyp.points - 25.3333) < 0.001)
        #expect(abs(hyp.listSizeFactor - 1) < 1e-9 && abs(hyp.prevalenceFactor - 1) < 1e-9)
        #expect(abs(hyp.pounds - 25.3333 * 225.49) < 0.01)  // £5,712.41
        #expect(abs(hyp.poundsAtStake - (38 - 25.3333) * 225.49) < 0.01)
    }

    @Test("list size and prevalence scale the pounds: double the list and half the prevalence")
    func factors() {
        let pay = PaymentCalculator.practice(Self.result(listSize: 20_000, hypRegister: 1_500, denominator: 1_000, numerator: 700),
                                             ruleset: Self.ruleset, national: Self.national)
        let hyp = pay.indicators.first { $0.id == "HYP008" }!
        #expect(abs(hyp.listSizeFactor - 2) < 1e-9)
        #expect(abs(hyp.prevalenceFactor - 0.5) < 1e-9)  // 7.5 % against 15 %
        #expect(abs(hyp.pounds - 25.3333 * 225.49) < 0.01)
        // BP is unweighted: no prevalence factor.
        #expect(pay.indicators.first { $0.id == "BP002" }!.prevalenceFactor == 1)
    }

    @Test("an empty register removes the group's points from the practice's maximum")
    func emptyRegister() {
        let pay = PaymentCalculator.practice(Self.result(listSize: 5_000, hypRegister: 0, denominator: 0, numerator: 0, bpDenominator: 100),
                                             ruleset: Self.ruleset, national: Self.national)
        #expect(pay.pointsAvailable == 15)
        #expect(pay.indicators.first { $0.id == "HYP008" }!.available == false)
    }

    @Test("patients needed for the next point", arguments: [(700, 1_000, 8), (400, 1_000, 12), (849, 1_000, 1), (850, 1_000, nil)] as [(Int, Int, Int?)])
    func nextPoint(_ numerator: Int, _ denominator: Int, _ expected: Int?) {
        // 38 points over 45 percentage points: one point per 1.184 pp. At 70 % (25.33 points) point 26 needs 70.79 %: 708 of 1,000.
        let pay = PaymentCalculator.practice(Self.result(listSize: 10_000, hypRegister: 1_500, denominator: denominator, numerator: numerator),
                                             ruleset: Self.ruleset, national: Self.national)
        #expect(pay.indicators.first { $0.id == "HYP008" }!.patientsForNextPoint == expected)
    }

    @Test("aspiration is a share of last year's pounds; the balance is what remains at year end")
    func aspiration() {
        let pay = PaymentCalculator.practice(Self.result(listSize: 10_000, hypRegister: 1_500, denominator: 1_000, numerator: 700),
                                             ruleset: Self.ruleset, national: Self.national, lastYearPounds: 5_000)
        #expect(pay.aspiration == 4_000)
        #expect(abs(pay.balance! - (pay.pounds - 4_000)) < 1e-9)
    }

    @Test("the shipped 2025/26 national figures load, with their unverified figures named")
    func shippedFigures() throws {
        let n = try NationalFigures.load(year: "qof-2025-26")
        #expect(n.pointValue == 225.49)
        #expect(n.unverified.contains("average_list_size"))
        #expect(n.prevalence["HYP"]?.register == "HYP_REG")
    }
}

@Suite("PCN roll-up")
struct PCNRollupTests {
    @Test("numerators and denominators are summed over members, and practices are ranked by achievement")
    func sums() {
        let rolled = PCNRollup.rollUp([
            .init(practice: "A81001", indicator: "HYP008", registerSize: 100, denominator: 80, numerator: 40, pounds: 1_000),
            .init(practice: "A81002", indicator: "HYP008", registerSize: 200, denominator: 120, numerator: 108, pounds: 3_000),
        ])
        #expect(rolled.count == 1)
        let r = rolled[0]
        #expect(r.registerSize == 300 && r.denominator == 200 && r.numerator == 148)
        #expect(abs(r.achievement! - 74) < 1e-9)
        #expect(r.pounds == 4_000)
        #expect(r.practices.first { $0.practice == "A81002" }?.rank == 1)
        #expect(r.practices.first { $0.practice == "A81001" }?.rank == 2)
    }
}

@Suite("Item-of-service counts")
struct ItemOfServiceTests {
    static func population() -> PopulationBuilder { PopulationBuilder(practice: .init(ods: "A81001", name: "T"), dataTo: Day(year: 2026, month: 3, day: 31)!) }

    /// One woman registered from `registered`, with `events` (concept, date).
    static func add(_ p: inout PopulationBuilder, id: String, born: Day, registered: Day, _ events: [(UInt64, Day)]) {
        p.patientIDs.append(id)
        p.nhsNumbers.append(0)
        p.birthDates.append(born)
        p.sexes.append(.female)
        p.deathDates.append(.distantFuture)
        p.lsoa.append(-1)
        p.ethnicity.append(-1)
        p.registrations.append(Registration(start: registered))
        p.registrationOffsets.append(Int32(p.registrations.count))
        for (c, d) in events { p.events.append(Event(date: d, code: p.codes.intern(c))) }
        p.eventOffsets.append(Int32(p.events.count))
        p.medicationOffsets.append(Int32(p.medications.count))
    }

    @Test("doses given to registered patients per programme per month, priced per dose")
    func counts() throws {
        let library = PaymentCalculatorTests.library
        let ios = try ItemOfService.load(year: "2025-26", library: library)
        let flu = library["qofd-flu-given-by-practice"]!.concepts.min()!
        let shingles = library["SHVACGP_COD"]!.concepts.min()!
        var p = Self.population()
        func add(_ id: String, registered: Day, _ events: [(UInt64, Day)]) {
            Self.add(&p, id: id, born: Day(year: 1950, month: 1, day: 1)!, registered: registered, events)
        }
        add("a", registered: Day(year: 2000, month: 1, day: 1)!, [(flu, Day(year: 2025, month: 10, day: 3)!), (shingles, Day(year: 2025, month: 10, day: 9)!)])
        add("b", registered: Day(year: 2000, month: 1, day: 1)!, [(flu, Day(year: 2025, month: 10, day: 20)!)])
        // Vaccinated before registering here: not the practice's claim.
        add("c", registered: Day(year: 2025, month: 12, day: 1)!, [(flu, Day(year: 2025, month: 10, day: 20)!)])
        let lines = ios.count(try p.build(), from: Day(year: 2025, month: 4, day: 1)!, to: Day(year: 2026, month: 3, day: 31)!)
        #expect(lines.contains(ItemOfService.Line(programme: "flu", month: "2025-10", doses: 2, pounds: 20.12)))
        #expect(lines.contains(ItemOfService.Line(programme: "shingles", month: "2025-10", doses: 1, pounds: 10.06)))
        #expect(lines.count == 2)
    }

    @Test("adult flu doses before 1 October are held, children's and pregnant women's from 1 September are priced")
    func fluSeasonStarts() throws {
        let library = PaymentCalculatorTests.library
        let ios = try ItemOfService.load(year: "2025-26", library: library)
        let flu = library["qofd-flu-given-by-practice"]!.concepts.min()!
        let pregnancy = library["primis-preg"]!.concepts.subtracting(library["primis-pregdel"]!.concepts).min()!
        let delivered = library["primis-pregdel"]!.concepts.min()!
        var p = Self.population()
        func add(born: Day, _ events: [(UInt64, Day)]) {
            Self.add(&p, id: "p\(p.patientIDs.count)", born: born, registered: Day(year: 2000, month: 1, day: 1)!, events)
        }
        let sep30 = Day(year: 2025, month: 9, day: 30)!, oct1 = Day(year: 2025, month: 10, day: 1)!
        add(born: Day(year: 1950, month: 1, day: 1)!, [(flu, sep30)])  // adult, the day before: held
        add(born: Day(year: 1950, month: 1, day: 1)!, [(flu, oct1)])  // adult on the first day: priced
        add(born: Day(year: 2007, month: 10, day: 1)!, [(flu, sep30)])  // 17 on the day (18 the next day): priced
        add(born: Day(year: 2007, month: 9, day: 30)!, [(flu, sep30)])  // 18 on the day: held
        add(born: Day(year: 1995, month: 1, day: 1)!, [(pregnancy, Day(year: 2025, month: 3, day: 1)!), (flu, Day(year: 2025, month: 9, day: 10)!)])  // pregnant: priced
        add(born: Day(year: 1995, month: 1, day: 1)!, [(pregnancy, Day(year: 2024, month: 12, day: 9)!), (flu, Day(year: 2025, month: 9, day: 10)!)])  // pregnancy code 9 months and a day before: held
        add(born: Day(year: 1995, month: 1, day: 1)!, [(pregnancy, Day(year: 2025, month: 1, day: 1)!), (delivered, Day(year: 2025, month: 8, day: 1)!),
                                                     (flu, Day(year: 2025, month: 9, day: 10)!)])  // delivered before the dose: held
        add(born: Day(year: 1995, month: 1, day: 1)!, [(delivered, Day(year: 2025, month: 8, day: 1)!), (flu, Day(year: 2025, month: 9, day: 10)!)])  // a delivery code is a pregnancy code too, and ends it: held
        add(born: Day(year: 2015, month: 1, day: 1)!, [(flu, Day(year: 2025, month: 8, day: 31)!)])  // before the season: held
        let lines = ios.count(try p.build(), from: Day(year: 2025, month: 4, day: 1)!, to: Day(year: 2026, month: 3, day: 31)!)
        let adultHeld = "an adult's dose before the adult programme started on 2025-10-01"
        #expect(lines.contains(ItemOfService.Line(programme: "flu", month: "2025-09", doses: 2, pounds: 20.12)))
        #expect(lines.contains(ItemOfService.Line(programme: "flu", month: "2025-09", doses: 5, pounds: 0, held: adultHeld)))
        #expect(lines.contains(ItemOfService.Line(programme: "flu", month: "2025-10", doses: 1, pounds: 10.06)))
        #expect(lines.contains(ItemOfService.Line(programme: "flu", month: "2025-08", doses: 1, pounds: 0, held: "outside the season (2025-09-01 to 2026-03-31)")))
        #expect(lines.count == 4)
    }
}
