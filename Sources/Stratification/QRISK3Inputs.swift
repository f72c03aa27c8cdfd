import Clinical
import Clusters
import Foundation
import QRISK3
import Yams

/// Where each QRISK3 input comes from in the record, as data (`qrisk3-inputs.yaml`): the clusters and windows
/// of values, smoking, conditions, the CVD that makes QRISK3 not apply, and the ethnicity mapping.
public struct QRISK3InputModel: Sendable {
    public struct Value: Sendable {
        public var concepts: Set<UInt64>
        public var months: Int
        public var range: ClosedRange<Double>
    }
    /// A condition input: its concepts, or nil when qofd has no code list for it (then "not looked for").
    public struct Condition: Sendable {
        public var name: String
        public var concepts: Set<UInt64>?
        public var note: String?
    }
    public var ages: ClosedRange<Int>
    public var cvd: Set<UInt64>
    public var recordedScore: Set<UInt64>
    public var values: [String: Value]
    public var smoking: (current: Set<UInt64>, ex: Set<UInt64>, never: Set<UInt64>)
    public var conditions: [Condition]
    public var ethnicity: [Int: Int]

    public static func bundled(library: ClusterLibrary) throws -> QRISK3InputModel {
        guard let url = Bundle.module.url(forResource: "qrisk3-inputs", withExtension: "yaml") else { throw FrailtyModelError("qrisk3-inputs.yaml is missing from this build") }
        return try parse(try String(contentsOf: url, encoding: .utf8), file: "qrisk3-inputs.yaml", library: library)
    }

    public static func parse(_ text: String, file: String, library: ClusterLibrary) throws -> QRISK3InputModel {
        guard let root = try Yams.compose(yaml: text)?.mapping else { throw FrailtyModelError("\(file): not a mapping") }
        func names(_ node: Node?) -> [String] { node?.sequence?.compactMap { $0.scalar?.string } ?? [] }
        func concepts(_ names: [String]) -> Set<UInt64>? {
            let lists = names.compactMap { library[$0] }
            return lists.isEmpty ? nil : lists.reduce(into: Set<UInt64>()) { $0.formUnion($1.concepts) }
        }
        var values: [String: Value] = [:]
        for (k, v) in root["values"]?.mapping ?? [:] {
            guard let name = k.scalar?.string, let m = v.mapping, let c = concepts(names(m["clusters"])),
                let months = (m["months"]?.scalar?.string).flatMap({ Int($0) }),
                let range = m["range"]?.sequence?.compactMap({ ($0.scalar?.string).flatMap { Double($0) } }), range.count == 2
            else { throw FrailtyModelError("\(file): value \(k.scalar?.string ?? "?") needs clusters qofd has, months and a range") }
            values[name] = Value(concepts: c, months: months, range: range[0]...range[1])
        }
        for needed in ["bmi", "total_cholesterol", "hdl_cholesterol", "systolic"] where values[needed] == nil {
            throw FrailtyModelError("\(file): values.\(needed) is required")
        }
        let smoking = root["smoking"]?.mapping
        let conditions = (root["conditions"]?.mapping ?? [:]).compactMap { (k, v) -> Condition? in
            guard let name = k.scalar?.string else { return nil }
            return Condition(name: name, concepts: concepts(names(v.mapping?["clusters"])), note: v.mapping?["note"]?.scalar?.string)
        }
        var ethnicity: [Int: Int] = [:]
        for (k, v) in root["ethnicity"]?.mapping ?? [:] {
            if let a = (k.scalar?.string).flatMap({ Int($0) }), let b = (v.scalar?.string).flatMap({ Int($0) }) { ethnicity[a] = b }
        }
        let ages = root["ages"]?.mapping
        return QRISK3InputModel(
            ages: ((ages?["from"]?.scalar?.string).flatMap { Int($0) } ?? 25)...((ages?["to"]?.scalar?.string).flatMap { Int($0) } ?? 84),
            cvd: concepts(names(root["cvd"])) ?? [], recordedScore: concepts([root["recorded_score"]?.scalar?.string ?? ""]) ?? [],
            values: values,
            smoking: (concepts(names(smoking?["current"])) ?? [], concepts(names(smoking?["ex"])) ?? [], concepts(names(smoking?["never"])) ?? []),
            conditions: conditions, ethnicity: ethnicity)
    }
}

/// One patient's QRISK3 on a date: whether it applies, the inputs as read, which were defaulted, the computed
/// ten-year risk and any recorded QRISK score beside it.
public struct RiskAssessment: Sendable {
    public var input: QRISK3Input
    /// Percent; nil when the model gives none.
    public var score: Double?
    /// Inputs the record did not give, in words ("BMI: none in 5 years, the model's mean used").
    public var defaulted: [String]
    public var recorded: (score: Double, on: Day)?
}

/// Reads QRISK3 inputs from a practice's records (each code's role looked up once per practice) and scores
/// them with `QRISK3`. Population use only: see `QRISK3.disclaimer`.
public struct QRISK3Reader: Sendable {
    public let inputs: QRISK3InputModel
    public let model: QRISK3
    let population: Population
    let ethnicGroups: EthnicGroups
    /// The model's means (its centring values) used for a missing value, by sex.
    static let means: [QRISK3Input.Sex: (bmi: Double, ratio: Double, systolic: Double)] = [
        .female: (10 / 0.154946178197861.squareRoot(), 3.476326465606690, 123.130012512207030),
        .male: (10 / 0.149176135659218.squareRoot(), 4.300998687744141, 128.571578979492190),
    ]

    public init(inputs: QRISK3InputModel, model: QRISK3, population: Population, ethnicGroups: EthnicGroups) {
        self.inputs = inputs
        self.model = model
        self.population = population
        self.ethnicGroups = ethnicGroups
    }

    /// The patient's assessment on `day`; nil outside the ages, for a sex QRISK3 has no model for, or with CVD.
    public func assess(_ p: Int, on day: Day) -> RiskAssessment? {
        let age = population.birthDates[p].age(on: day)
        guard inputs.ages.contains(age) else { return nil }
        let sex: QRISK3Input.Sex
        switch population.sexes[p] {
        case .female: sex = .female
        case .male: sex = .male
        default: return nil
        }
        let events = population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])].filter { $0.date <= day }
        func concept(_ e: Event) -> UInt64 { population.codes[e.code] }
        if events.contains(where: { inputs.cvd.contains(concept($0)) }) { return nil }
        var defaulted: [String] = ["Townsend deprivation: not in the extract (not IMD), the national average used"]
        func latest(_ key: String) -> (Double, Day)? {
            guard let v = inputs.values[key] else { return nil }
            let from = day.adding(months: -v.months)
            return events.last { $0.date > from && v.concepts.contains(concept($0)) && v.range.contains(Double($0.value)) }
                .map { (Double($0.value), $0.date) }
        }
        let means = Self.means[sex]!
        let bmi = latest("bmi")?.0 ?? { defaulted.append("BMI: none in 5 years, the model's mean used"); return means.bmi }()
        var ratio = means.ratio
        if let tc = latest("total_cholesterol"), let hdl = latest("hdl_cholesterol"), hdl.0 > 0 { ratio = tc.0 / hdl.0 } else {
            defaulted.append("cholesterol/HDL ratio: no total and HDL cholesterol in 5 years, the model's mean used")
        }
        let systolicWindow = inputs.values["systolic"]!
        let readings = events.filter {
            $0.date > day.adding(months: -systolicWindow.months) && systolicWindow.concepts.contains(concept($0)) && systolicWindow.range.contains(Double($0.value))
        }.map { Double($0.value) }
        let systolic = readings.last ?? { defaulted.append("systolic blood pressure: none in 5 years, the model's mean used"); return means.systolic }()
        var sd = 0.0
        if readings.count >= 2 {
            let mean = readings.reduce(0, +) / Double(readings.count)
            sd = (readings.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(readings.count - 1)).squareRoot()
        } else {
            defaulted.append("systolic variability: fewer than two readings in 5 years, 0 used")
        }
        // Smoking: the latest status.
        var smoking = QRISK3Input.Smoking.non
        if let s = events.last(where: { let c = concept($0); return inputs.smoking.current.contains(c) || inputs.smoking.ex.contains(c) || inputs.smoking.never.contains(c) }) {
            let c = concept(s)
            if inputs.smoking.current.contains(c) {
                smoking = .moderate
                defaulted.append("smoking: current smoker, amount not recorded, counted as moderate (10–19 a day)")
            } else if inputs.smoking.ex.contains(c) {
                smoking = .ex
            }
        } else {
            defaulted.append("smoking: no status recorded, counted as a non-smoker")
        }
        var ethnicity = 1
        let e = population.ethnicity[p]
        if e >= 0, let group = ethnicGroups.groups16[population.codes[e]], let q = inputs.ethnicity[group] { ethnicity = q } else {
            defaulted.append("ethnicity: not recorded, counted as white or not stated")
        }
        var x = QRISK3Input(age: age, sex: sex, ethnicity: ethnicity, smoking: smoking, bmi: bmi, cholesterolRatio: ratio, systolic: systolic,
                            systolicSD: sd, townsend: 0)
        for c in inputs.conditions {
            guard let concepts = c.concepts else {
                defaulted.append("\(c.name): not looked for (\(c.note ?? "no code list"))")
                continue
            }
            let has = events.contains { concepts.contains(concept($0)) }
            if has, let note = c.note { defaulted.append("\(c.name): \(note)") }
            switch c.name {
            case "atrialFibrillation": x.atrialFibrillation = has
            case "type1Diabetes": x.type1Diabetes = has
            case "type2Diabetes": x.type2Diabetes = has && !x.type1Diabetes
            case "kidneyDisease": x.kidneyDisease = has
            case "rheumatoidArthritis": x.rheumatoidArthritis = has
            case "severeMentalIllness": x.severeMentalIllness = has
            case "treatedHypertension": x.treatedHypertension = has
            case "lupus": x.lupus = has
            case "migraine": x.migraine = has
            case "erectileDysfunction": x.erectileDysfunction = has
            case "atypicalAntipsychotics": x.atypicalAntipsychotics = has
            case "corticosteroids": x.corticosteroids = has
            case "familyHistory": x.familyHistory = has
            default: continue
            }
        }
        let recorded = events.last { inputs.recordedScore.contains(concept($0)) && $0.value >= 0 && $0.value <= 100 }.map { (Double($0.value), $0.date) }
        return RiskAssessment(input: x, score: model.score(x), defaulted: defaulted, recorded: recorded)
    }
}
