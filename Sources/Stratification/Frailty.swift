import Clinical

/// One patient's frailty on a date: recorded (the latest eFI score or frailty code in the record) or
/// estimated (eFI deficits counted from the record). Always says which.
public struct FrailtyAssessment: Sendable, Hashable {
    public enum Source: String, Sendable, Codable { case recorded, estimated }
    public var source: Source
    public var category: FrailtyCategory
    /// The eFI score (0 to 1): recorded with an eFI score code, or the estimate; nil for a category code alone.
    public var score: Double?
    /// The deficits found (estimates only), by label.
    public var deficits: [String]
    /// The day of the recorded code (recorded only).
    public var recordedOn: Day?
}

/// Assesses the frailty of a practice's patients aged 65 and over with a `FrailtyModel`. The practice's code
/// table is read once: each code's deficits are looked up, not searched for, per record.
public struct FrailtyAssessor: Sendable {
    public let model: FrailtyModel
    let population: Population
    /// Per code of the population: the deficits it counts for (bit i = model.deficits[i]).
    let deficitBits: [UInt64]
    /// Per code: 0 none, 1 eFI score, 2 mild, 3 moderate, 4 severe.
    let recordedKind: [UInt8]
    /// The summary's date, worked out once (nil: worked out per call).
    var frame: DateFrame?

    /// What each concept of the model means to it (its deficits, and which recorded frailty code it is), worked out
    /// once per model: a practice's code table then costs one lookup per code.
    public struct CodeIndex: Sendable {
        let byConcept: [UInt64: (deficits: UInt64, kind: UInt8)]

        public init(model: FrailtyModel) {
            precondition(model.deficits.count <= 64, "at most 64 coded deficits")
            var index: [UInt64: (deficits: UInt64, kind: UInt8)] = [:]
            for (i, d) in model.deficits.enumerated() {
                for c in d.concepts { index[c, default: (0, 0)].deficits |= 1 << UInt64(i) }
            }
            for c in model.recordedScore { index[c, default: (0, 0)].kind = 1 }
            // A later category wins, as before: severe over moderate over mild.
            for (n, (_, set)) in model.recordedCategories.enumerated() {
                for c in set { index[c, default: (0, 0)].kind = UInt8(2 + n) }
            }
            byConcept = index
        }
    }

    public init(model: FrailtyModel, population: Population, index: CodeIndex? = nil) {
        self.model = model
        self.population = population
        let index = index ?? CodeIndex(model: model)
        var bits = [UInt64](), kinds = [UInt8]()
        bits.reserveCapacity(population.codes.concepts.count)
        kinds.reserveCapacity(population.codes.concepts.count)
        for concept in population.codes.concepts {
            let entry = index.byConcept[concept]
            bits.append(entry?.deficits ?? 0)
            kinds.append(entry?.kind ?? 0)
        }
        deficitBits = bits
        recordedKind = kinds
    }

    /// The patient's frailty on `day`; nil under the model's minimum age. Without `labels` the deficits found
    /// are counted, not named (the summary only needs the category).
    public func assess(_ p: Int, on day: Day, labels withLabels: Bool = true) -> FrailtyAssessment? {
        guard frame.age(population.birthDates[p], on: day) >= model.minimumAge else { return nil }
        let events = population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])]
        // Recorded: the latest eFI score (a usable 0–1 value) or frailty category code up to the day.
        var latest: (day: Day, kind: UInt8, value: Float)?
        var found: UInt64 = 0
        for e in events where e.date <= day {
            found |= deficitBits[Int(e.code)]
            let kind = recordedKind[Int(e.code)]
            guard kind != 0, !(kind == 1 && !(e.value >= 0 && e.value <= 1)) else { continue }
            if latest == nil || e.date >= latest!.day { latest = (e.date, kind, e.value) }
        }
        if let r = latest {
            let category: FrailtyCategory = r.kind == 1 ? model.category(Double(r.value)) : [.mild, .moderate, .severe][Int(r.kind) - 2]
            return FrailtyAssessment(source: .recorded, category: category, score: r.kind == 1 ? Double(r.value) : nil, deficits: [], recordedOn: r.day)
        }
        let poly = polypharmacy(p, on: day)
        let count = found.nonzeroBitCount + (poly ? 1 : 0)
        var labels: [String] = []
        if withLabels {
            labels = model.deficits.indices.filter { found & (1 << UInt64($0)) != 0 }.map { model.deficits[$0].label }
            if poly { labels.append(model.polypharmacyLabel) }
        }
        let score = Double(count) / Double(model.deficitCount)
        return FrailtyAssessment(source: .estimated, category: model.category(score), score: score, deficits: labels, recordedOn: nil)
    }

    /// At least the model's number of different medicines issued in its window up to the day.
    func polypharmacy(_ p: Int, on day: Day) -> Bool {
        let range = Int(population.medicationOffsets[p])..<Int(population.medicationOffsets[p + 1])
        guard range.count >= model.polypharmacyMedicines else { return false }
        let from = frame.before(model.polypharmacyMonths, day)
        var seen: [Int32] = []
        seen.reserveCapacity(model.polypharmacyMedicines)
        for m in population.medications[range] where m.date > from && m.date <= day && !seen.contains(m.code) {
            seen.append(m.code)
            if seen.count >= model.polypharmacyMedicines { return true }
        }
        return false
    }
}
