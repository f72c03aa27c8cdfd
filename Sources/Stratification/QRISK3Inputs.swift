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

/// Reads QRISK3 inputs from a practice's records (each code's roles looked up once per practice, each patient's
/// records read once) and scores them with `QRISK3`. Population use only: see `QRISK3.disclaimer`.
public struct QRISK3Reader: Sendable {
    public let inputs: QRISK3InputModel
    public let model: QRISK3
    let population: Population
    let ethnicGroups: EthnicGroups
    /// Per code of the population: its roles (bits, see `Role`).
    let roles: [UInt32]
    /// Per code: the QRISK3 ethnicity it gives as the ethnicity column (0 when none).
    let ethnicityOfCode: [UInt8]
    /// The summary's date, worked out once (nil: worked out per call).
    var frame: DateFrame?

    enum Role: Int { case cvd, bmi, totalCholesterol, hdl, systolic, smokeCurrent, smokeEx, smokeNever, recorded, firstCondition }

    /// The inputs a condition can set (a closed list: QRISK3's own), written without key paths.
    enum ConditionInput: String, Sendable {
        case atrialFibrillation, type1Diabetes, type2Diabetes, kidneyDisease, rheumatoidArthritis, severeMentalIllness, treatedHypertension
        case lupus, migraine, erectileDysfunction, atypicalAntipsychotics, corticosteroids, familyHistory

        func set(_ x: inout QRISK3Input, _ value: Bool) {
            switch self {
            case .atrialFibrillation: x.atrialFibrillation = value
            case .type1Diabetes: x.type1Diabetes = value
            case .type2Diabetes: x.type2Diabetes = value
            case .kidneyDisease: x.kidneyDisease = value
            case .rheumatoidArthritis: x.rheumatoidArthritis = value
            case .severeMentalIllness: x.severeMentalIllness = value
            case .treatedHypertension: x.treatedHypertension = value
            case .lupus: x.lupus = value
            case .migraine: x.migraine = value
            case .erectileDysfunction: x.erectileDysfunction = value
            case .atypicalAntipsychotics: x.atypicalAntipsychotics = value
            case .corticosteroids: x.corticosteroids = value
            case .familyHistory: x.familyHistory = value
            }
        }
    }
    /// Which input each condition sets, by its name in the inputs file (nil: not an input QRISK3 has).
    let conditionInputs: [ConditionInput?]
    /// The value inputs, looked up once: BMI, total cholesterol, HDL cholesterol, systolic.
    let bmiValue: QRISK3InputModel.Value, totalCholesterolValue: QRISK3InputModel.Value, hdlValue: QRISK3InputModel.Value,
        systolicValue: QRISK3InputModel.Value

    /// The model's means (its centring values) used for a missing value, by sex.
    static let means: [QRISK3Input.Sex: (bmi: Double, ratio: Double, systolic: Double)] = [
        .female: (10 / 0.154946178197861.squareRoot(), 3.476326465606690, 123.130012512207030),
        .male: (10 / 0.149176135659218.squareRoot(), 4.300998687744141, 128.571578979492190),
    ]

    /// Each concept's roles in the inputs, worked out once per input model: a practice's code table then costs one
    /// lookup per code.
    public struct CodeIndex: Sendable {
        let byConcept: [UInt64: UInt32]

        public init(inputs: QRISK3InputModel) {
            precondition(inputs.conditions.count <= 32 - Role.firstCondition.rawValue, "too many QRISK3 conditions")
            var sets: [(Role, Set<UInt64>)] = [(.cvd, inputs.cvd), (.smokeCurrent, inputs.smoking.current), (.smokeEx, inputs.smoking.ex),
                                               (.smokeNever, inputs.smoking.never), (.recorded, inputs.recordedScore)]
            for (role, key) in [(Role.bmi, "bmi"), (.totalCholesterol, "total_cholesterol"), (.hdl, "hdl_cholesterol"), (.systolic, "systolic")] {
                sets.append((role, inputs.values[key]?.concepts ?? []))
            }
            var index: [UInt64: UInt32] = [:]
            for (role, set) in sets { for c in set { index[c, default: 0] |= 1 << UInt32(role.rawValue) } }
            for (i, condition) in inputs.conditions.enumerated() {
                for c in condition.concepts ?? [] { index[c, default: 0] |= 1 << UInt32(Role.firstCondition.rawValue + i) }
            }
            byConcept = index
        }
    }

    public init(inputs: QRISK3InputModel, model: QRISK3, population: Population, ethnicGroups: EthnicGroups, index: CodeIndex? = nil) {
        self.inputs = inputs
        self.model = model
        self.population = population
        self.ethnicGroups = ethnicGroups
        (bmiValue, totalCholesterolValue, hdlValue, systolicValue) =
            (inputs.values["bmi"]!, inputs.values["total_cholesterol"]!, inputs.values["hdl_cholesterol"]!, inputs.values["systolic"]!)
        let index = index ?? CodeIndex(inputs: inputs)
        roles = population.codes.concepts.map { index.byConcept[$0] ?? 0 }
        conditionInputs = inputs.conditions.map { ConditionInput(rawValue: $0.name) }
        ethnicityOfCode = population.codes.concepts.map { c in UInt8(ethnicGroups.groups16[c].flatMap { inputs.ethnicity[$0] } ?? 0) }
    }

    /// The patient's assessment on `day`; nil outside the ages, for a sex QRISK3 has no model for, or with CVD.
    /// Without `words` the defaulted inputs are not written out (the summary only counts scores).
    public func assess(_ p: Int, on day: Day, words: Bool = true) -> RiskAssessment? {
        let age = frame.age(population.birthDates[p], on: day)
        guard inputs.ages.contains(age) else { return nil }
        let sex: QRISK3Input.Sex
        switch population.sexes[p] {
        case .female: sex = .female
        case .male: sex = .male
        default: return nil
        }
        func window(_ v: QRISK3InputModel.Value) -> (from: Day, range: ClosedRange<Double>) { (frame.before(v.months, day), v.range) }
        let (bmiFrom, bmiRange) = window(bmiValue), (tcFrom, tcRange) = window(totalCholesterolValue), (hdlFrom, hdlRange) = window(hdlValue)
        let (sbpFrom, sbpRange) = window(systolicValue)
        var bmi: Double?, tc: Double?, hdl: Double?, systolic: Double?, recorded: (Double, Day)?
        var readings = 0, sum = 0.0, sumSquares = 0.0
        var smoking: Role?, conditions: UInt32 = 0
        for e in population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])] where e.date <= day {
            let r = roles[Int(e.code)]
            guard r != 0 else { continue }
            if r & 1 != 0 { return nil }  // CVD: QRISK3 does not apply
            let v = Double(e.value)
            if r & (1 << 1) != 0, e.date > bmiFrom, bmiRange.contains(v) { bmi = v }
            if r & (1 << 2) != 0, e.date > tcFrom, tcRange.contains(v) { tc = v }
            if r & (1 << 3) != 0, e.date > hdlFrom, hdlRange.contains(v) { hdl = v }
            if r & (1 << 4) != 0, e.date > sbpFrom, sbpRange.contains(v) {
                systolic = v
                readings += 1
                sum += v
                sumSquares += v * v
            }
            if r & (1 << 5) != 0 { smoking = .smokeCurrent } else if r & (1 << 6) != 0 { smoking = .smokeEx } else if r & (1 << 7) != 0 { smoking = .smokeNever }
            if r & (1 << 8) != 0, e.value >= 0, e.value <= 100 { recorded = (v, e.date) }
            conditions |= r >> UInt32(Role.firstCondition.rawValue)
        }
        var defaulted: [String] = []
        func note(_ text: @autoclosure () -> String) { if words { defaulted.append(text()) } }
        note("Townsend deprivation: not in the extract (not IMD), the national average used")
        let means = Self.means[sex]!
        if bmi == nil { note("BMI: none in 5 years, the model's mean used") }
        var ratio = means.ratio
        if let tc, let hdl, hdl > 0 { ratio = tc / hdl } else { note("cholesterol/HDL ratio: no total and HDL cholesterol in 5 years, the model's mean used") }
        if systolic == nil { note("systolic blood pressure: none in 5 years, the model's mean used") }
        var sd = 0.0
        if readings >= 2 {
            let n = Double(readings)
            sd = max(0, (sumSquares - sum * sum / n) / (n - 1)).squareRoot()
        } else {
            note("systolic variability: fewer than two readings in 5 years, 0 used")
        }
        var smokingLevel = QRISK3Input.Smoking.non
        switch smoking {
        case .smokeCurrent?:
            smokingLevel = .moderate
            note("smoking: current smoker, amount not recorded, counted as moderate (10–19 a day)")
        case .smokeEx?: smokingLevel = .ex
        case .smokeNever?: break
        default: note("smoking: no status recorded, counted as a non-smoker")
        }
        let e = population.ethnicity[p]
        var ethnicity = e >= 0 ? Int(ethnicityOfCode[Int(e)]) : 0
        if ethnicity == 0 {
            ethnicity = 1
            note("ethnicity: not recorded, counted as white or not stated")
        }
        var x = QRISK3Input(age: age, sex: sex, ethnicity: ethnicity, smoking: smokingLevel, bmi: bmi ?? means.bmi, cholesterolRatio: ratio,
                            systolic: systolic ?? means.systolic, systolicSD: sd, townsend: 0)
        if words {
            for (i, c) in inputs.conditions.enumerated() {
                guard c.concepts != nil else {
                    note("\(c.name): not looked for (\(c.note ?? "no code list"))")
                    continue
                }
                if conditions & (1 << UInt32(i)) != 0, let n = c.note { note("\(c.name): \(n)") }
            }
        }
        // A condition without a code list never sets its bit: its input stays false, as the notes say.
        for (i, input) in conditionInputs.enumerated() { input?.set(&x, conditions & (1 << UInt32(i)) != 0) }
        if x.type1Diabetes { x.type2Diabetes = false }
        return RiskAssessment(input: x, score: model.score(x), defaulted: defaulted, recorded: recorded)
    }
}
