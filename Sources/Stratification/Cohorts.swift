import Clinical
import Clusters
import Foundation
import Yams

/// A condition of a cohort to act on: the segmentation's vocabulary plus the segment, QRISK3 and "nothing
/// recorded" tests (`cohorts.yaml`).
public enum CohortCondition: Sendable {
    case segment(Set<String>)
    case qrisk3AtLeast(Double)
    case noRecordWithin(Set<UInt64>, months: Int)
    case noMedicineWithin(Set<UInt64>, months: Int)
    case noContactWithin(months: Int)
    case frailty(Set<FrailtyCategory>)
    case anyRecord(Set<UInt64>)
    case recordWithin(Set<UInt64>, months: Int)
    case ageUnder(Int)
    case ageAtLeast(Int)
    case readings(Readings)
    case noRecordEver(Set<UInt64>)
    case medicineWithin(Set<UInt64>, months: Int)
    /// Registered (the current registration) for at least this many months on the date.
    case registeredFor(months: Int)
    /// The ethnicity column is empty or holds a code that names no census group.
    case noEthnicity
    /// No LSOA, or one the deprivation table does not know: no deprivation known.
    case noArea
    indirect case anyOf([CohortCondition])

    /// Counted readings: how many, how recent, above or below which values, how far apart.
    public struct Readings: Sendable {
        public var concepts: Set<UInt64>
        public var months: Int
        public var atLeast: Int
        public var valueAtLeast: Double?
        public var value2AtLeast: Double?
        public var valueBelow: Double?
        public var apartDays: Int?
        public var latestOnly: Bool
    }
}

/// A cohort to act on, as data: who meets every condition on the date.
public struct Cohort: Sendable {
    public var id: String
    public var label: String
    public var source: String
    public var when: [CohortCondition]
    /// "cohort" or "case finding".
    public var group: String = "cohort"
    /// Code lists the cohort names that qofd does not have: what they define stays empty (said on the page).
    public var missingLists: [String] = []
    /// For case finding: the QOF register the people found would join once confirmed and coded (its prevalence,
    /// and the pounds that scale with it, are shown as what finding them is worth).
    public var register: String?
}

/// The cohorts of a file (the shipped `cohorts.yaml`, or a site's own).
public enum CohortFile {
    /// The shipped cohorts, case-finding rules and the people the data misses.
    public static func bundled(library: ClusterLibrary) throws -> [Cohort] {
        try ["cohorts", "case-finding", "data-gaps"].flatMap { name -> [Cohort] in
            guard let url = Bundle.module.url(forResource: name, withExtension: "yaml") else { throw FrailtyModelError("\(name).yaml is missing from this build") }
            return try parse(try String(contentsOf: url, encoding: .utf8), file: "\(name).yaml", library: library)
        }
    }

    public static func parse(_ text: String, file: String, library: ClusterLibrary) throws -> [Cohort] {
        guard let root = try Yams.compose(yaml: text)?.mapping else { throw FrailtyModelError("\(file): not a mapping") }
        var missing = Set<String>()
        func concepts(_ node: Node?) throws -> Set<UInt64> {
            guard let names = node?.sequence?.compactMap({ $0.scalar?.string }), !names.isEmpty else { throw FrailtyModelError("\(file): a list of clusters is expected") }
            for n in names where library[n] == nil { missing.insert(n) }
            return names.compactMap { library[$0] }.reduce(into: Set<UInt64>()) { $0.formUnion($1.concepts) }
        }
        func double(_ node: Node?) -> Double? { (node?.scalar?.string).flatMap { Double($0) } }
        func int(_ node: Node?) throws -> Int {
            guard let i = (node?.scalar?.string).flatMap({ Int($0) }) else { throw FrailtyModelError("\(file): a whole number is expected") }
            return i
        }
        func condition(_ node: Node) throws -> CohortCondition {
            guard let m = node.mapping, m.count == 1, let (k, v) = m.first, let key = k.scalar?.string else {
                throw FrailtyModelError("\(file)\(node.mark.map { " line \($0.line)" } ?? ""): a condition has one key")
            }
            switch key {
            case "segment": return .segment(Set((v.sequence ?? []).compactMap { $0.scalar?.string }))
            case "qrisk3_at_least":
                guard let x = (v.scalar?.string).flatMap({ Double($0) }) else { throw FrailtyModelError("\(file): qrisk3_at_least needs a number") }
                return .qrisk3AtLeast(x)
            case "no_record_within": return .noRecordWithin(try concepts(v.mapping?["clusters"]), months: try int(v.mapping?["months"]))
            case "no_medicine_within": return .noMedicineWithin(try concepts(v.mapping?["clusters"]), months: try int(v.mapping?["months"]))
            case "no_contact_within": return .noContactWithin(months: try int(v.mapping?["months"]))
            case "frailty": return .frailty(Set((v.sequence ?? []).compactMap { ($0.scalar?.string).flatMap(FrailtyCategory.init(rawValue:)) }))
            case "any": return .anyRecord(try concepts(v))
            case "within": return .recordWithin(try concepts(v.mapping?["clusters"]), months: try int(v.mapping?["months"]))
            case "age_under": return .ageUnder(try int(v))
            case "age_at_least": return .ageAtLeast(try int(v))
            case "readings":
                let m = v.mapping
                return .readings(.init(concepts: try concepts(m?["clusters"]), months: try int(m?["months"]), atLeast: try int(m?["at_least"]),
                                       valueAtLeast: double(m?["value_at_least"]), value2AtLeast: double(m?["value2_at_least"]),
                                       valueBelow: double(m?["value_below"]), apartDays: (m?["apart_days"]?.scalar?.string).flatMap { Int($0) },
                                       latestOnly: m?["latest"]?.bool ?? false))
            case "no_record_ever": return .noRecordEver(try concepts(v))
            case "medicine_within": return .medicineWithin(try concepts(v.mapping?["clusters"]), months: try int(v.mapping?["months"]))
            case "any_of": return .anyOf(try (v.sequence ?? []).map(condition))
            case "registered_for": return .registeredFor(months: try int(v.mapping?["months"]))
            case "no_ethnicity", "no_area":
                guard v.bool == true else { throw FrailtyModelError("\(file): \(key) takes true") }
                return key == "no_area" ? .noArea : .noEthnicity
            default: throw FrailtyModelError("\(file): unknown cohort condition \(key)")
            }
        }
        return try (root["cohorts"]?.mapping ?? [:]).map { k, v in
            guard let id = k.scalar?.string, let m = v.mapping, let when = m["when"]?.sequence, !when.isEmpty else {
                throw FrailtyModelError("\(file): each cohort needs an id and when")
            }
            missing = []
            let conditions = try when.map(condition)
            return Cohort(id: id, label: m["label"]?.scalar?.string ?? id, source: m["source"]?.scalar?.string ?? "", when: conditions,
                          group: m["group"]?.scalar?.string ?? "cohort", missingLists: missing.sorted(), register: m["register"]?.scalar?.string)
        }
    }
}

/// Finds a practice's patients in a cohort on a date, each with why, from the same assessors as the summary.
public struct CohortFinder: Sendable {
    public struct Member: Sendable {
        public var row: Int
        /// What put the patient in the cohort, in words.
        public var why: [String]
    }
    let population: Population
    let segmenter: Segmenter
    let frailty: FrailtyAssessor
    let qrisk: QRISK3Reader

    public init(stratifier: PopulationStratifier, population: Population, decile: (String) -> Int?) {
        self.population = population
        (frailty, segmenter, qrisk) = stratifier.assessors(population, decile: decile)
    }

    /// The registered patients meeting every condition of the cohort on `day`.
    public func members(_ cohort: Cohort, on day: Day) -> [Member] {
        population.patientIDs.indices.compactMap { p in
            guard population.isRegisteredAndAlive(p, on: day) else { return nil }
            return member(p, cohort, on: day)
        }
    }

    /// Whether the patient meets every condition of the cohort on `day`.
    public func contains(_ p: Int, _ cohort: Cohort, on day: Day) -> Bool { member(p, cohort, on: day) != nil }

    func member(_ p: Int, _ cohort: Cohort, on day: Day) -> Member? {
        var why: [String] = []
        let events = population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])].filter { $0.date <= day }
        for c in cohort.when where !holds(c, p, events, on: day, why: &why) { return nil }
        return Member(row: p, why: why)
    }

    /// Whether the condition holds for the patient (whose records up to the day are `events`); adds what made it
    /// hold to `why`.
    func holds(_ c: CohortCondition, _ p: Int, _ events: [Event], on day: Day, why: inout [String]) -> Bool {
        switch c {
        case .segment(let ids):
            let s = segmenter.model.segments[segmenter.assign(p, on: day).segment]
            guard ids.contains(s.id) else { return false }
            why.append("segment: \(s.label.lowercased())")
        case .qrisk3AtLeast(let x):
            guard let r = qrisk.assess(p, on: day), let score = r.score, score >= x else { return false }
            why.append(String(format: "QRISK3 %.1f%%", score) + (r.defaulted.count > 1 ? " (\(r.defaulted.count - 1) inputs defaulted besides Townsend)" : ""))
        case .noRecordWithin(let set, let months):
            let from = day.adding(months: -months)
            return !events.contains { $0.date > from && set.contains(population.codes[$0.code]) }
        case .noMedicineWithin(let set, let months):
            return medicines(p, set, within: months, on: day).isEmpty
        case .noContactWithin(let months):
            let from = day.adding(months: -months)
            guard !events.contains(where: { $0.date > from }) else { return false }
            why.append("nothing coded since \(from.adding(days: 1))")
        case .frailty(let categories):
            guard let f = frailty.assess(p, on: day), categories.contains(f.category) else { return false }
            why.append("\(f.category.rawValue) frailty (\(f.source.rawValue)\(f.recordedOn.map { " \($0)" } ?? ""))")
        case .anyRecord(let set): return events.contains { set.contains(population.codes[$0.code]) }
        case .recordWithin(let set, let months):
            let from = day.adding(months: -months)
            return events.contains { $0.date > from && set.contains(population.codes[$0.code]) }
        case .ageUnder(let n): return population.birthDates[p].age(on: day) < n
        case .ageAtLeast(let n): return population.birthDates[p].age(on: day) >= n
        case .noRecordEver(let set): return !events.contains { set.contains(population.codes[$0.code]) }
        case .medicineWithin(let set, let months):
            let issued = medicines(p, set, within: months, on: day)
            guard let last = issued.last else { return false }
            why.append("medicine issued \(last)")
        case .readings(let r):
            guard let counted = Self.readingsHold(r, events.lazy.filter { r.concepts.contains(population.codes[$0.code]) }, on: day) else { return false }
            why.append(counted.suffix(3).map { e in (e.value2.isNaN ? "\(e.value)" : "\(e.value)/\(e.value2)") + " on \(e.date)" }.joined(separator: ", "))
        case .registeredFor(let months):
            guard let since = population.registeredSince(p, on: day), since <= day.adding(months: -months) else { return false }
            why.append("registered since \(since)")
        case .noEthnicity:
            let e = population.ethnicity[p]
            return e < 0 || segmenter.ethnicGroups[population.codes[e]] == nil
        case .noArea:
            let area = population.lsoa[p]
            return area < 0 || segmenter.deciles[Int(area)] == nil
        case .anyOf(let options):
            for o in options where holds(o, p, events, on: day, why: &why) { return true }
            return false
        }
        return true
    }

    /// The readings that count (`events`: the patient's records of the readings' lists up to the day, in order),
    /// or nil when too few: in the months up to the day, the latest only if asked, above or below the values,
    /// far enough apart.
    static func readingsHold(_ r: CohortCondition.Readings, _ events: some Sequence<Event>, on day: Day) -> [Event]? {
        let from = day.adding(months: -r.months)
        var all = events.filter { $0.date > from }
        if r.latestOnly, let last = all.last { all = [last] }
        let counted = all.filter { e in
            if let below = r.valueBelow { return !e.value.isNaN && Double(e.value) < below }
            let first = r.valueAtLeast.map { !e.value.isNaN && Double(e.value) >= $0 } ?? false
            let second = r.value2AtLeast.map { !e.value2.isNaN && Double(e.value2) >= $0 } ?? false
            return first || second
        }
        guard counted.count >= r.atLeast else { return nil }
        if let apart = r.apartDays, let a = counted.first, let b = counted.last, b.date.daysSinceEpoch - a.date.daysSinceEpoch < apart { return nil }
        return counted
    }

    /// The days medicines of the set were issued in the months up to the day, in order.
    func medicines(_ p: Int, _ set: Set<UInt64>, within months: Int, on day: Day) -> [Day] {
        let from = day.adding(months: -months)
        return population.medications[Int(population.medicationOffsets[p])..<Int(population.medicationOffsets[p + 1])]
            .filter { $0.date > from && $0.date <= day && set.contains(population.codes[$0.code]) }.map(\.date)
    }
}
