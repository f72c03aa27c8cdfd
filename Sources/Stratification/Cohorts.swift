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
}

/// A cohort to act on, as data: who meets every condition on the date.
public struct Cohort: Sendable {
    public var id: String
    public var label: String
    public var source: String
    public var when: [CohortCondition]
}

/// The cohorts of a file (the shipped `cohorts.yaml`, or a site's own).
public enum CohortFile {
    public static func bundled(library: ClusterLibrary) throws -> [Cohort] {
        guard let url = Bundle.module.url(forResource: "cohorts", withExtension: "yaml") else { throw FrailtyModelError("cohorts.yaml is missing from this build") }
        return try parse(try String(contentsOf: url, encoding: .utf8), file: "cohorts.yaml", library: library)
    }

    public static func parse(_ text: String, file: String, library: ClusterLibrary) throws -> [Cohort] {
        guard let root = try Yams.compose(yaml: text)?.mapping else { throw FrailtyModelError("\(file): not a mapping") }
        func concepts(_ node: Node?) throws -> Set<UInt64> {
            guard let names = node?.sequence?.compactMap({ $0.scalar?.string }), !names.isEmpty else { throw FrailtyModelError("\(file): a list of clusters is expected") }
            return names.compactMap { library[$0] }.reduce(into: Set<UInt64>()) { $0.formUnion($1.concepts) }
        }
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
            default: throw FrailtyModelError("\(file): unknown cohort condition \(key)")
            }
        }
        return try (root["cohorts"]?.mapping ?? [:]).map { k, v in
            guard let id = k.scalar?.string, let m = v.mapping, let when = m["when"]?.sequence, !when.isEmpty else {
                throw FrailtyModelError("\(file): each cohort needs an id and when")
            }
            return Cohort(id: id, label: m["label"]?.scalar?.string ?? id, source: m["source"]?.scalar?.string ?? "", when: try when.map(condition))
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
        frailty = FrailtyAssessor(model: stratifier.frailty, population: population)
        segmenter = Segmenter(model: stratifier.segmentation, population: population, frailty: frailty, ethnicGroups: stratifier.ethnicGroups, decile: decile)
        qrisk = QRISK3Reader(inputs: stratifier.qriskInputs, model: stratifier.qrisk, population: population, ethnicGroups: stratifier.ethnicGroups)
    }

    /// The registered patients meeting every condition of the cohort on `day`.
    public func members(_ cohort: Cohort, on day: Day) -> [Member] {
        population.patientIDs.indices.compactMap { p in
            guard population.isRegisteredAndAlive(p, on: day) else { return nil }
            return member(p, cohort, on: day)
        }
    }

    func member(_ p: Int, _ cohort: Cohort, on day: Day) -> Member? {
        let events = population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])].filter { $0.date <= day }
        let age = population.birthDates[p].age(on: day)
        var why: [String] = []
        for c in cohort.when {
            switch c {
            case .segment(let ids):
                let s = segmenter.model.segments[segmenter.assign(p, on: day).segment]
                guard ids.contains(s.id) else { return nil }
                why.append("segment: \(s.label.lowercased())")
            case .qrisk3AtLeast(let x):
                guard let r = qrisk.assess(p, on: day), let score = r.score, score >= x else { return nil }
                why.append(String(format: "QRISK3 %.1f%%", score) + (r.defaulted.count > 1 ? " (\(r.defaulted.count - 1) inputs defaulted besides Townsend)" : ""))
            case .noRecordWithin(let set, let months):
                let from = day.adding(months: -months)
                guard !events.contains(where: { $0.date > from && set.contains(population.codes[$0.code]) }) else { return nil }
            case .noMedicineWithin(let set, let months):
                let from = day.adding(months: -months)
                let meds = population.medications[Int(population.medicationOffsets[p])..<Int(population.medicationOffsets[p + 1])]
                guard !meds.contains(where: { $0.date > from && $0.date <= day && set.contains(population.codes[$0.code]) }) else { return nil }
            case .noContactWithin(let months):
                let from = day.adding(months: -months)
                guard !events.contains(where: { $0.date > from }) else { return nil }
                why.append("nothing coded since \(from.adding(days: 1))")
            case .frailty(let categories):
                guard let f = frailty.assess(p, on: day), categories.contains(f.category) else { return nil }
                why.append("\(f.category.rawValue) frailty (\(f.source.rawValue)\(f.recordedOn.map { " \($0)" } ?? ""))")
            case .anyRecord(let set):
                guard events.contains(where: { set.contains(population.codes[$0.code]) }) else { return nil }
            case .recordWithin(let set, let months):
                let from = day.adding(months: -months)
                guard events.contains(where: { $0.date > from && set.contains(population.codes[$0.code]) }) else { return nil }
            case .ageUnder(let n): guard age < n else { return nil }
            case .ageAtLeast(let n): guard age >= n else { return nil }
            }
        }
        return Member(row: p, why: why)
    }
}
