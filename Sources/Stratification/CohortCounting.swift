import Clinical
import Clusters

/// The cohorts compiled for counting every patient of a practice in one pass over their records: each code
/// list a cohort names gets a number once per process, each practice code is looked up once, and a patient's
/// conditions are answered from the latest day each list was recorded (readings are scanned only for the codes
/// of their list). `CohortFinder` is the plain reference, with words; tests hold the two to the same answers.
struct CohortCounting: Sendable {
    /// One condition, flat and free of references (a patient's test reads no reference-counted value).
    struct Step: Sendable {
        enum Kind: UInt8, Sendable {
            case segment, qrisk3AtLeast, noRecordWithin, noMedicineWithin, noContactWithin, frailty, anyRecord, recordWithin
            case ageUnder, ageAtLeast, readings, noRecordEver, medicineWithin, registeredFor, noEthnicity, noArea, anyOf
        }
        var kind: Kind
        /// The code list's number; for `readings`, the rule's place in `readings`; for `anyOf`, the first option's place in `options`.
        var list: Int32 = 0
        /// Months back; for ages the age; for `anyOf` how many options.
        var months: Int32 = 0
        var threshold: Double = 0
        /// Segments (bit i: the i-th) or frailty categories (bit i: `FrailtyCategory.allCases[i]`).
        var mask: UInt64 = 0
    }

    /// Each cohort's steps: `steps[cohortRanges[i]]`.
    let steps: [Step]
    let cohortRanges: [Range<Int>]
    /// The options of `anyOf` steps.
    let options: [Step]
    let readings: [CohortCondition.Readings]
    /// Each concept's lists (by number).
    let listsOfConcept: [UInt64: [Int32]]
    let listCount: Int

    init(_ cohorts: [Cohort], segments: [String]) {
        var numbers: [Set<UInt64>: Int] = [:]
        var index: [UInt64: [Int32]] = [:]
        var readings: [CohortCondition.Readings] = []
        var options: [Step] = []
        func number(_ set: Set<UInt64>) -> Int32 {
            if let n = numbers[set] { return Int32(n) }
            let n = numbers.count
            numbers[set] = n
            for c in set { index[c, default: []].append(Int32(n)) }
            return Int32(n)
        }
        func compile(_ c: CohortCondition) -> Step {
            switch c {
            case .segment(let ids):
                return Step(kind: .segment, mask: segments.indices.reduce(UInt64(0)) { ids.contains(segments[$1]) && $1 < 64 ? $0 | 1 << UInt64($1) : $0 })
            case .qrisk3AtLeast(let x): return Step(kind: .qrisk3AtLeast, threshold: x)
            case .noRecordWithin(let s, let months): return Step(kind: .noRecordWithin, list: number(s), months: Int32(months))
            case .noMedicineWithin(let s, let months): return Step(kind: .noMedicineWithin, list: number(s), months: Int32(months))
            case .noContactWithin(let months): return Step(kind: .noContactWithin, months: Int32(months))
            case .frailty(let categories):
                return Step(kind: .frailty, mask: FrailtyCategory.allCases.indices.reduce(UInt64(0)) {
                    categories.contains(FrailtyCategory.allCases[$1]) ? $0 | 1 << UInt64($1) : $0
                })
            case .anyRecord(let s): return Step(kind: .anyRecord, list: number(s))
            case .recordWithin(let s, let months): return Step(kind: .recordWithin, list: number(s), months: Int32(months))
            case .ageUnder(let n): return Step(kind: .ageUnder, months: Int32(clamping: n))
            case .ageAtLeast(let n): return Step(kind: .ageAtLeast, months: Int32(clamping: n))
            case .readings(let r):
                readings.append(r)
                return Step(kind: .readings, list: Int32(readings.count - 1), months: number(r.concepts))
            case .noRecordEver(let s): return Step(kind: .noRecordEver, list: number(s))
            case .medicineWithin(let s, let months): return Step(kind: .medicineWithin, list: number(s), months: Int32(months))
            case .registeredFor(let months): return Step(kind: .registeredFor, months: Int32(months))
            case .noEthnicity: return Step(kind: .noEthnicity)
            case .noArea: return Step(kind: .noArea)
            case .anyOf(let choices):
                let compiled = choices.map(compile)
                options.append(contentsOf: compiled)
                return Step(kind: .anyOf, list: Int32(options.count - compiled.count), months: Int32(compiled.count))
            }
        }
        var steps: [Step] = [], ranges: [Range<Int>] = []
        for c in cohorts {
            let compiled = c.when.map(compile)
            ranges.append(steps.count..<steps.count + compiled.count)
            steps += compiled
        }
        self.steps = steps
        cohortRanges = ranges
        self.options = options
        self.readings = readings
        listsOfConcept = index
        listCount = numbers.count
    }

    /// A practice's code table: the lists each of its codes belongs to, flat.
    struct Practice: Sendable {
        let offsets: [Int32]
        let lists: [Int32]
        let frame: DateFrame?

        init(_ counting: CohortCounting, population: Population, frame: DateFrame? = nil) {
            self.frame = frame
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
        /// The patient's segment's place in the segmentation.
        var segment: Int
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
            func from(_ months: Int32) -> Int32 { practice.frame.before(Int(months), day).daysSinceEpoch }
            func holds(_ c: Step) -> Bool {
                switch c.kind {
                case .segment: return known.segment < 64 && c.mask & (1 << UInt64(known.segment)) != 0
                case .qrisk3AtLeast: return known.qrisk3.map { $0 >= c.threshold } ?? false
                case .noRecordWithin: return latest[Int(c.list)] <= from(c.months)
                case .noMedicineWithin: return latest[listCount + Int(c.list)] <= from(c.months)
                case .noContactWithin: return latestAny <= from(c.months)
                case .frailty:
                    guard let f = known.frailty else { return false }
                    return c.mask & (1 << UInt64(f.ordinal)) != 0
                case .anyRecord: return latest[Int(c.list)] != .min
                case .recordWithin: return latest[Int(c.list)] != .min && latest[Int(c.list)] > from(c.months)
                case .ageUnder: return known.age < Int(c.months)
                case .ageAtLeast: return known.age >= Int(c.months)
                case .noRecordEver: return latest[Int(c.list)] == .min
                case .medicineWithin: return latest[listCount + Int(c.list)] != .min && latest[listCount + Int(c.list)] > from(c.months)
                case .registeredFor: return population.registeredSince(p, on: day).map { $0.daysSinceEpoch <= from(c.months) } ?? false
                case .noEthnicity: return !known.ethnicityKnown
                case .noArea: return !known.areaKnown
                case .readings:
                    let l = Int(c.months)
                    let r = readings[Int(c.list)]
                    guard r.atLeast <= 0 || (latest[l] != .min && latest[l] > from(Int32(r.months))) else { return false }
                    return readingsHold(r, list: l, events, practice: practice, from: from(Int32(r.months)), on: day)
                case .anyOf:
                    for k in Int(c.list)..<Int(c.list) + Int(c.months) where holds(options[k]) { return true }
                    return false
                }
            }
            for (i, range) in cohortRanges.enumerated() {
                var all = true
                for k in range where !holds(steps[k]) {
                    all = false
                    break
                }
                if all { member(i) }
            }
        }
    }
}

extension CohortCounting {
    /// `CohortFinder.readingsHold` without making arrays: the same readings in the same order, counted.
    func readingsHold(_ r: CohortCondition.Readings, list l: Int, _ events: ArraySlice<Event>, practice: Practice, from: Int32, on day: Day) -> Bool {
        func counts(_ e: Event) -> Bool {
            if let below = r.valueBelow { return !e.value.isNaN && Double(e.value) < below }
            let first = r.valueAtLeast.map { !e.value.isNaN && Double(e.value) >= $0 } ?? false
            let second = r.value2AtLeast.map { !e.value2.isNaN && Double(e.value2) >= $0 } ?? false
            return first || second
        }
        var n = 0, first = Int32.min, last = Int32.min
        var latest: Event?
        for e in events where e.date <= day && e.date.daysSinceEpoch > from && practice.inList(e.code, l) {
            if r.latestOnly {
                latest = e
                continue
            }
            guard counts(e) else { continue }
            n += 1
            if n == 1 { first = e.date.daysSinceEpoch }
            last = e.date.daysSinceEpoch
        }
        if r.latestOnly, let e = latest, counts(e) { (n, first, last) = (1, e.date.daysSinceEpoch, e.date.daysSinceEpoch) }
        guard n >= r.atLeast else { return false }
        if let apart = r.apartDays, n > 0, last - first < apart { return false }
        return true
    }
}

extension Population {
    /// The start of the registration the patient holds on `day` (nil when not registered that day).
    public func registeredSince(_ patient: Int, on day: Day) -> Day? {
        for r in registrationRange(patient) where registrations[r].contains(day) { return registrations[r].start }
        return nil
    }
}
