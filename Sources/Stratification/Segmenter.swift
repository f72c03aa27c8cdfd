import Clinical
import Clusters

/// One patient's place in the segmentation on a date.
public struct SegmentAssignment: Sendable, Hashable {
    /// Index into the model's segments.
    public var segment: Int
    public var longTermConditions: Int
    /// Core20: in the model's most deprived IMD deciles; nil when the patient's area is unknown.
    public var core20: Bool?
    public var plus: [String]
    public var five: [String]
}

/// Puts each patient of a practice in exactly one segment (the first of the model's, highest need first,
/// whose conditions they meet), counts their long-term conditions and flags Core20PLUS5. One pass over each
/// patient's records; each code's sets are looked up once per practice.
public struct Segmenter: Sendable {
    public let model: SegmentationModel
    let population: Population
    let frailty: FrailtyAssessor?
    let ethnicGroups: EthnicGroups
    /// IMD decile of each of the population's areas (by `population.lsoa` index), nil when unknown.
    let deciles: [Int?]
    /// Per code: the sets it belongs to, flat (`setOffsets[code]..<setOffsets[code + 1]` into `setList`), so reading
    /// them costs no reference counting.
    let setOffsets: [Int32]
    let setList: [Int32]
    /// Per code: whether it records an ethnic group other than White (the PLUS group's condition).
    let minorityEthnicity: [Bool]
    /// The model's conditions, flat (see `CodeIndex`).
    let compiled: CodeIndex
    /// The summary's date, worked out once (nil: worked out per call).
    var frame: DateFrame?

    /// The sets each concept of the model belongs to, worked out once per model: a practice's code table then costs
    /// one lookup per code.
    public struct CodeIndex: Sendable {
        let byConcept: [UInt64: [Int32]]
        /// The model's conditions, flat and free of references (a patient's test reads no reference-counted value).
        struct Rule: Sendable {
            enum Kind: UInt8, Sendable { case any, within, ltcAtLeast, frailty, ageUnder, ageAtLeast, ethnicMinority, always }
            var kind: Kind
            var set: Int32 = 0
            /// Months, a count or an age.
            var n: Int32 = 0
            /// Frailty categories (bit i: `FrailtyCategory.allCases[i]`).
            var mask: UInt8 = 0
        }
        /// Each segment's conditions (any one puts the patient there): `rules[segmentRanges[i]]`.
        let rules: [Rule]
        let segmentRanges: [Range<Int>]
        let plus: [Rule]
        let five: [Rule]
        /// Each long-term condition's diagnosis set and resolved set (-1: none).
        let conditions: [(diagnosis: Int32, resolved: Int32)]

        public init(model: SegmentationModel) {
            var index: [UInt64: [Int32]] = [:]
            for (i, set) in model.sets.enumerated() {
                for c in set { index[c, default: []].append(Int32(i)) }
            }
            byConcept = index
            func rule(_ c: SegmentCondition) -> Rule {
                switch c {
                case .any(let s): return Rule(kind: .any, set: Int32(s))
                case .within(let s, let months): return Rule(kind: .within, set: Int32(s), n: Int32(clamping: months))
                case .ltcAtLeast(let n): return Rule(kind: .ltcAtLeast, n: Int32(clamping: n))
                case .frailty(let categories):
                    return Rule(kind: .frailty, mask: FrailtyCategory.allCases.indices.reduce(UInt8(0)) {
                        categories.contains(FrailtyCategory.allCases[$1]) ? $0 | 1 << UInt8($1) : $0
                    })
                case .ageUnder(let n): return Rule(kind: .ageUnder, n: Int32(clamping: n))
                case .ageAtLeast(let n): return Rule(kind: .ageAtLeast, n: Int32(clamping: n))
                case .ethnicMinority: return Rule(kind: .ethnicMinority)
                case .always: return Rule(kind: .always)
                }
            }
            var rules: [Rule] = [], ranges: [Range<Int>] = []
            for segment in model.segments {
                ranges.append(rules.count..<rules.count + segment.when.count)
                rules += segment.when.map(rule)
            }
            self.rules = rules
            segmentRanges = ranges
            plus = model.plus.map { rule($0.when) }
            five = model.five.map { rule($0.when) }
            conditions = model.longTermConditions.map { (Int32($0.diagnosis), Int32($0.resolved ?? -1)) }
        }
    }

    public init(model: SegmentationModel, population: Population, frailty: FrailtyAssessor?, ethnicGroups: EthnicGroups, decile: (String) -> Int?,
                index: CodeIndex? = nil) {
        self.model = model
        self.population = population
        self.frailty = frailty
        self.ethnicGroups = ethnicGroups
        deciles = population.lsoaCodes.map(decile)
        let index = index ?? CodeIndex(model: model)
        compiled = index
        var offsets: [Int32] = [0], list: [Int32] = []
        offsets.reserveCapacity(population.codes.concepts.count + 1)
        for c in population.codes.concepts {
            if let sets = index.byConcept[c] { list.append(contentsOf: sets) }
            offsets.append(Int32(list.count))
        }
        setOffsets = offsets
        setList = list
        minorityEthnicity = population.codes.concepts.map { c in ethnicGroups[c].map { !$0.hasPrefix("White") } ?? false }
    }

    /// `frailty`: the patient's frailty category when the caller has it already (nil inside: not assessed or none).
    public func assign(_ p: Int, on day: Day, frailty known: FrailtyCategory?? = nil) -> SegmentAssignment {
        let placed = place(p, on: day, frailty: known)
        return SegmentAssignment(segment: placed.segment, longTermConditions: placed.longTermConditions, core20: placed.core20,
                                 plus: model.plus.indices.filter { placed.plus & (1 << UInt64($0)) != 0 }.map { model.plus[$0].name },
                                 five: model.five.indices.filter { placed.five & (1 << UInt64($0)) != 0 }.map { model.five[$0].name })
    }

    /// The assignment with the PLUS groups and clinical areas as bit sets (bit i = the model's i-th): what the summary
    /// counts, without making a string per patient.
    func place(_ p: Int, on day: Day, frailty known: FrailtyCategory??) -> (segment: Int, longTermConditions: Int, core20: Bool?, plus: UInt64, five: UInt64) {
        precondition(model.plus.count <= 64 && model.five.count <= 64, "at most 64 PLUS groups and clinical areas")
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: model.sets.count) { latest in
            // The latest day each set was recorded, up to the date (Int32.min: never).
            latest.initialize(repeating: .min)
            for e in population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])] where e.date <= day {
                let from = Int(setOffsets[Int(e.code)]), to = Int(setOffsets[Int(e.code) + 1])
                if from == to { continue }
                for k in from..<to { latest[Int(setList[k])] = e.date.daysSinceEpoch }
            }
            var ltc = 0
            for c in compiled.conditions {
                let diagnosed = latest[Int(c.diagnosis)]
                guard diagnosed != .min else { continue }
                if c.resolved >= 0, latest[Int(c.resolved)] != .min, latest[Int(c.resolved)] > diagnosed { continue }
                ltc += 1
            }
            let age = frame.age(population.birthDates[p], on: day)
            var frailtyCategory: FrailtyCategory?? = known
            func holds(_ c: CodeIndex.Rule) -> Bool {
                switch c.kind {
                case .any: return latest[Int(c.set)] != .min
                case .within: return latest[Int(c.set)] != .min && latest[Int(c.set)] > frame.before(Int(c.n), day).daysSinceEpoch
                case .ltcAtLeast: return ltc >= Int(c.n)
                case .frailty:
                    if frailtyCategory == nil { frailtyCategory = .some(frailty?.assess(p, on: day)?.category) }
                    guard let f = frailtyCategory! else { return false }
                    return c.mask & (1 << UInt8(f.ordinal)) != 0
                case .ageUnder: return age < Int(c.n)
                case .ageAtLeast: return age >= Int(c.n)
                case .ethnicMinority:
                    let e = population.ethnicity[p]
                    return e >= 0 && minorityEthnicity[Int(e)]
                case .always: return true
                }
            }
            var segment = compiled.segmentRanges.count - 1
            search: for (i, range) in compiled.segmentRanges.enumerated() {
                for k in range where holds(compiled.rules[k]) {
                    segment = i
                    break search
                }
            }
            var plus: UInt64 = 0, five: UInt64 = 0
            for (i, g) in compiled.plus.enumerated() where holds(g) { plus |= 1 << UInt64(i) }
            for (i, g) in compiled.five.enumerated() where holds(g) { five |= 1 << UInt64(i) }
            let area = population.lsoa[p]
            let decile = area >= 0 ? deciles[Int(area)] : nil
            return (segment, ltc, decile.map { model.core20Deciles.contains($0) }, plus, five)
        }
    }
}
