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

    /// The sets each concept of the model belongs to, worked out once per model: a practice's code table then costs
    /// one lookup per code.
    public struct CodeIndex: Sendable {
        let byConcept: [UInt64: [Int32]]

        public init(model: SegmentationModel) {
            var index: [UInt64: [Int32]] = [:]
            for (i, set) in model.sets.enumerated() {
                for c in set { index[c, default: []].append(Int32(i)) }
            }
            byConcept = index
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
            for c in model.longTermConditions {
                let diagnosed = latest[c.diagnosis]
                guard diagnosed != .min else { continue }
                if let r = c.resolved, latest[r] != .min, latest[r] > diagnosed { continue }
                ltc += 1
            }
            let age = population.birthDates[p].age(on: day)
            var frailtyCategory: FrailtyCategory?? = known
            func holds(_ c: SegmentCondition) -> Bool {
                switch c {
                case .any(let s): return latest[s] != .min
                case .within(let s, let months): return latest[s] != .min && latest[s] > day.adding(months: -months).daysSinceEpoch
                case .ltcAtLeast(let n): return ltc >= n
                case .frailty(let categories):
                    if frailtyCategory == nil { frailtyCategory = .some(frailty?.assess(p, on: day)?.category) }
                    return frailtyCategory!.map { categories.contains($0) } ?? false
                case .ageUnder(let n): return age < n
                case .ageAtLeast(let n): return age >= n
                case .ethnicMinority:
                    let e = population.ethnicity[p]
                    return e >= 0 && minorityEthnicity[Int(e)]
                case .always: return true
                }
            }
            let segment = model.segments.firstIndex { $0.when.contains(where: holds) } ?? model.segments.count - 1
            var plus: UInt64 = 0, five: UInt64 = 0
            for (i, g) in model.plus.enumerated() where holds(g.when) { plus |= 1 << UInt64(i) }
            for (i, g) in model.five.enumerated() where holds(g.when) { five |= 1 << UInt64(i) }
            let area = population.lsoa[p]
            let decile = area >= 0 ? deciles[Int(area)] : nil
            return (segment, ltc, decile.map { model.core20Deciles.contains($0) }, plus, five)
        }
    }
}
