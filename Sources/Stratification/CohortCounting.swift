import Clinical
import Clusters

/// The cohorts compiled for counting every patient of a practice in one pass over their records: each code
/// list a cohort names gets a number once per process, each practice code is looked up once, and a patient's
/// conditions are answered from the latest day each list was recorded (readings are scanned only for the codes
/// of their list). `CohortFinder` is the plain reference, with words; tests hold the two to the same answers.
struct CohortCounting: Sendable {
    indirect enum Condition: Sendable {
        case segment(Set<String>)
        case qrisk3AtLeast(Double)
        case noRecordWithin(Int, months: Int)
        case noMedicineWithin(Int, months: Int)
        case noContactWithin(months: Int)
        case frailty(Set<FrailtyCategory>)
        case anyRecord(Int)
        case recordWithin(Int, months: Int)
        case ageUnder(Int)
        case ageAtLeast(Int)
        case readings(Int, CohortCondition.Readings)
        case noRecordEver(Int)
        case medicineWithin(Int, months: Int)
        case registeredFor(months: Int)
        case noEthnicity
        case noArea
        case anyOf([Condition])
    }

    let cohorts: [[Condition]]
    /// Each concept's lists (by number).
    let listsOfConcept: [UInt64: [Int32]]
    let listCount: Int

    init(_ cohorts: [Cohort]) {
        var numbers: [Set<UInt64>: Int] = [:]
        var index: [UInt64: [Int32]] = [:]
        func number(_ set: Set<UInt64>) -> Int {
            if let n = numbers[set] { return n }
            let n = numbers.count
            numbers[set] = n
            for c in set { index[c, default: []].append(Int32(n)) }
            return n
        }
        func compile(_ c: CohortCondition) -> Condition {
            switch c {
            case .segment(let ids): return .segment(ids)
            case .qrisk3AtLeast(let x): return .qrisk3AtLeast(x)
            case .noRecordWithin(let s, let months): return .noRecordWithin(number(s), months: months)
            case .noMedicineWithin(let s, let months): return .noMedicineWithin(number(s), months: months)
            case .noContactWithin(let months): return .noContactWithin(months: months)
            case .frailty(let categories): return .frailty(categories)
            case .anyRecord(let s): return .anyRecord(number(s))
            case .recordWithin(let s, let months): return .recordWithin(number(s), months: months)
            case .ageUnder(let n): return .ageUnder(n)
            case .ageAtLeast(let n): return .ageAtLeast(n)
            case .readings(let r): return .readings(number(r.concepts), r)
            case .noRecordEver(let s): return .noRecordEver(number(s))
            case .medicineWithin(let s, let months): return .medicineWithin(number(s), months: months)
            case .registeredFor(let months): return .registeredFor(months: months)
            case .noEthnicity: return .noEthnicity
            case .noArea: return .noArea
            case .anyOf(let options): return .anyOf(options.map(compile))
            }
        }
        self.cohorts = cohorts.map { $0.when.map(compile) }
        listsOfConcept = index
        listCount = numbers.count
    }

    /// A practice's code table: the lists each of its codes belongs to, flat.
    struct Practice: Sendable {
        let offsets: [Int32]
        let lists: [Int32]

        init(_ counting: CohortCounting, population: Population) {
            var offsets: [Int32] = [0], lists: [Int32] = []
            offsets.reserveCapacity(population.codes.concepts.count + 1)
            for c in population.codes.concepts {
                if let l = counting.listsOfConcept[c] { lists.append(contentsOf: l) }
                offsets.append(Int32(lists.count))
            }
            self.offsets = offsets
            self.lists = lists
        }

        func inList(_ code: Int32, _ list: Int) -> Bool {
            for k in Int(offsets[Int(code)])..<Int(offsets[Int(code) + 1]) where Int(lists[k]) == list { return true }
            return false
        }
    }

    /// What the summary already knows of the patient (so nothing is assessed twice).
    struct Known {
        var segment: String
        var frailty: FrailtyCategory?
        var qrisk3: Double?
        var age: Int
        /// The patient's area has a known IMD decile.
        var areaKnown: Bool
        /// The ethnicity column maps to a census group.
        var ethnicityKnown: Bool
    }

    /// Calls `member(i)` for each cohort `i` the patient is in on `day`.
    func memberships(_ p: Int, on day: Day, known: Known, practice: Practice, population: Population, member: (Int) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(1, 2 * listCount)) { latest in
            // Per list: the latest record up to the day, then the latest issue (Int32.min: none).
            latest.initialize(repeating: .min)
            var latestAny = Int32.min
            let events = population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])]
            for e in events where e.date <= day {
                latestAny = max(latestAny, e.date.daysSinceEpoch)
                for k in Int(practice.offsets[Int(e.code)])..<Int(practice.offsets[Int(e.code) + 1]) {
                    let l = Int(practice.lists[k])
                    latest[l] = max(latest[l], e.date.daysSinceEpoch)
                }
            }
            let medications = population.medications[Int(population.medicationOffsets[p])..<Int(population.medicationOffsets[p + 1])]
            for m in medications where m.date <= day {
                for k in Int(practice.offsets[Int(m.code)])..<Int(practice.offsets[Int(m.code) + 1]) {
                    let l = listCount + Int(practice.lists[k])
                    latest[l] = max(latest[l], m.date.daysSinceEpoch)
                }
            }
            func from(_ months: Int) -> Int32 { day.adding(months: -months).daysSinceEpoch }
            func holds(_ c: Condition) -> Bool {
                switch c {
                case .segment(let ids): return ids.contains(known.segment)
                case .qrisk3AtLeast(let x): return known.qrisk3.map { $0 >= x } ?? false
                case .noRecordWithin(let l, let months): return latest[l] <= from(months)
                case .noMedicineWithin(let l, let months): return latest[listCount + l] <= from(months)
                case .noContactWithin(let months): return latestAny <= from(months)
                case .frailty(let categories): return known.frailty.map { categories.contains($0) } ?? false
                case .anyRecord(let l): return latest[l] != .min
                case .recordWithin(let l, let months): return latest[l] != .min && latest[l] > from(months)
                case .ageUnder(let n): return known.age < n
                case .ageAtLeast(let n): return known.age >= n
                case .noRecordEver(let l): return latest[l] == .min
                case .medicineWithin(let l, let months): return latest[listCount + l] != .min && latest[listCount + l] > from(months)
                case .registeredFor(let months): return population.registeredSince(p, on: day).map { $0 <= day.adding(months: -months) } ?? false
                case .noEthnicity: return !known.ethnicityKnown
                case .noArea: return !known.areaKnown
                case .readings(let l, let r):
                    guard r.atLeast <= 0 || (latest[l] != .min && latest[l] > from(r.months)) else { return false }
                    return CohortFinder.readingsHold(r, events.lazy.filter { $0.date <= day && practice.inList($0.code, l) }, on: day) != nil
                case .anyOf(let options): return options.contains(where: holds)
                }
            }
            for (i, conditions) in cohorts.enumerated() where conditions.allSatisfy(holds) { member(i) }
        }
    }
}

extension Population {
    /// The start of the registration the patient holds on `day` (nil when not registered that day).
    public func registeredSince(_ patient: Int, on day: Day) -> Day? {
        for r in registrationRange(patient) where registrations[r].contains(day) { return registrations[r].start }
        return nil
    }
}
