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

    public init(model: SegmentationModel, population: Population, frailty: FrailtyAssessor?, ethnicGroups: EthnicGroups, decile: (String) -> Int?) {
        self.model = model
        self.population = population
        self.frailty = frailty
        self.ethnicGroups = ethnicGroups
        deciles = population.lsoaCodes.map(decile)
        var offsets: [Int32] = [0], list: [Int32] = []
        for c in population.codes.concepts {
            for i in model.sets.indices where model.sets[i].contains(c) { list.append(Int32(i)) }
            offsets.append(Int32(list.count))
        }
        setOffsets = offsets
        setList = list
    }

    /// `frailty`: the patient's frailty category when the caller has it already (nil inside: not assessed or none).
    public func assign(_ p: Int, on day: Day, frailty known: FrailtyCategory?? = nil) -> SegmentAssignment {
        // The latest day each set was recorded, up to the date (only sets a record of the patient touches are written).
        var latest = [Day?](repeating: nil, count: model.sets.count)
        for e in population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])] where e.date <= day {
            let from = Int(setOffsets[Int(e.code)]), to = Int(setOffsets[Int(e.code) + 1])
            if from == to { continue }
            for k in from..<to { latest[Int(setList[k])] = e.date }
        }
        let ltc = model.longTermConditions.filter { c in
            guard let diagnosed = latest[c.diagnosis] else { return false }
            return c.resolved.flatMap { latest[$0] }.map { $0 <= diagnosed } ?? true
        }.count
        let age = population.birthDates[p].age(on: day)
        var frailtyCategory: FrailtyCategory?? = known
        func holds(_ c: SegmentCondition) -> Bool {
            switch c {
            case .any(let s): return latest[s] != nil
            case .within(let s, let months): return latest[s].map { $0 > day.adding(months: -months) } ?? false
            case .ltcAtLeast(let n): return ltc >= n
            case .frailty(let categories):
                if frailtyCategory == nil { frailtyCategory = .some(frailty?.assess(p, on: day)?.category) }
                return frailtyCategory!.map { categories.contains($0) } ?? false
            case .ageUnder(let n): return age < n
            case .ageAtLeast(let n): return age >= n
            case .ethnicMinority:
                let e = population.ethnicity[p]
                guard e >= 0, let group = ethnicGroups[population.codes[e]] else { return false }
                return !group.hasPrefix("White")
            case .always: return true
            }
        }
        let segment = model.segments.firstIndex { $0.when.contains(where: holds) } ?? model.segments.count - 1
        let area = population.lsoa[p]
        let decile = area >= 0 ? deciles[Int(area)] : nil
        return SegmentAssignment(segment: segment, longTermConditions: ltc, core20: decile.map { model.core20Deciles.contains($0) },
                                 plus: model.plus.filter { holds($0.when) }.map(\.name), five: model.five.filter { holds($0.when) }.map(\.name))
    }
}
