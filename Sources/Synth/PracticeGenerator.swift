import Clinical
import Clusters

/// What kind of FHIR resource a synthetic record becomes (CSV does not care).
enum RecordKind: Sendable { case condition, observation, procedure, immunization }

/// One generated clinical record.
struct SynthEvent: Sendable {
    var date: Day
    var code: UInt64
    var value: Double? = nil
    var value2: Double? = nil
    var unit: String? = nil
    var kind: RecordKind
}

struct SynthMedication: Sendable {
    var date: Day
    var code: UInt64
    var quantity: Double
}

/// One generated patient, ready to be written in either encoding.
struct SynthPatient: Sendable {
    var id: String
    var nhsNumber: String?
    var birth: Day
    var sex: Sex
    var death: Day?
    var lsoa: String?
    var ethnicity: UInt64?
    var registrations: [(start: Day, end: Day?)]
    var events: [SynthEvent] = []
    var medications: [SynthMedication] = []
}

/// Generates the patients of one practice: English age/sex structure, registration churn, deaths,
/// long-term conditions near national prevalence, and the monitoring a real practice records at
/// realistic, imperfect rates, all with real SNOMED CT and dm+d codes from the shipped code lists.
struct PracticeGenerator {
    let library: ClusterLibrary
    let codes: [String: [UInt64]]
    let scales: [ConditionModel.ID: Double]
    let lsoaPool: [String]

    init(library: ClusterLibrary, lsoaPool: [String]) {
        self.library = library
        var codes: [String: [UInt64]] = [:]
        for (name, list) in library.lists { codes[name] = list.concepts.sorted() }
        // Clusters the rulesets fill from a labelled stand-in list record from that list.
        for (cluster, standIn) in Self.standIns where codes[cluster] == nil { codes[cluster] = codes[standIn] }
        self.codes = codes
        self.scales = Dictionary(uniqueKeysWithValues: ConditionModel.all.map { ($0.id, AgeStructure.scale(for: $0)) })
        self.lsoaPool = lsoaPool
    }

    /// The stand-in lists the QOF rulesets declare for clusters that do not ship (`stand_in:` in the rule files).
    static let standIns = [
        "DOAC_COD": "opensafely-direct-acting-oral-anticoagulants-doac", "VKA_COD": "opensafely-warfarin",
        "ANTIPLT_COD": "opensafely-antiplatelets", "LBB_COD": "opensafely-beta-blocker-medications",
        "FBS_COD": "ardens-glucose-fasting-level", "ECOG_COD": "reducehf-echocardiography-result",
        "GICANREF_COD": "phc-2ww-referral-colorectal",
    ]

    func code(_ cluster: String, _ r: inout SynthRandom) -> UInt64? {
        guard let list = codes[cluster], !list.isEmpty else { return nil }
        return r.pick(list)
    }

    /// A date uniformly between `from` and `to` (inclusive).
    func day(between from: Day, and to: Day, _ r: inout SynthRandom) -> Day {
        guard to > from else { return from }
        return from.adding(days: r.int(0...Int(to.daysSinceEpoch - from.daysSinceEpoch)))
    }

    func generate(practice: String, count: Int, dataTo: Day, seed: UInt64, firstNHSIndex: Int) -> [SynthPatient] {
        var r = SynthRandom.derived(seed, 1)
        // Each practice serves a neighbourhood: a few dozen LSOAs from the national list.
        let neighbourhood = lsoaPool.isEmpty ? [] : (0..<40).map { _ in r.pick(lsoaPool) }
        let ethnicityCodes = codes["opensafely-ethnicity-snomed-0removed"] ?? []
        var patients: [SynthPatient] = []
        patients.reserveCapacity(count)
        for i in 0..<count {
            var pr = SynthRandom.derived(seed, UInt64(i + 2))
            patients.append(
                patient(index: i, practice: practice, dataTo: dataTo, neighbourhood: neighbourhood,
                        ethnicityCodes: ethnicityCodes, nhsIndex: firstNHSIndex + i, &pr))
        }
        return patients
    }

    private func patient(
        index: Int, practice: String, dataTo: Day, neighbourhood: [String], ethnicityCodes: [UInt64], nhsIndex: Int,
        _ r: inout SynthRandom
    ) -> SynthPatient {
        let age = AgeStructure.sampleAge(&r)
        let birth = dataTo.adding(years: -age).adding(days: -r.int(0...364))
        let sex: Sex = r.chance(AgeStructure.femaleShare(age)) ? .female : (r.chance(0.002) ? .indeterminate : .male)
        // Registration: long-standing for most, new in the last year for ~8%, some with a gap.
        let earliest = max(birth, dataTo.adding(years: -25))
        var start: Day
        if r.chance(0.08) { start = day(between: max(birth, dataTo.adding(months: -12)), and: dataTo, &r) } else {
            start = day(between: earliest, and: max(earliest, dataTo.adding(months: -12)), &r)
        }
        if age < 1 { start = birth.adding(days: min(r.int(0...40), Int(dataTo.daysSinceEpoch - birth.daysSinceEpoch))) }
        var registrations: [(start: Day, end: Day?)] = [(start, nil)]
        if r.chance(0.03), start < dataTo.adding(months: -36) {
            // An earlier spell at the practice that ended.
            let previousEnd = start.adding(days: -r.int(30...700))
            if previousEnd > birth.adding(days: 30) {
                registrations.insert((max(birth, previousEnd.adding(years: -3)), previousEnd), at: 0)
            }
        }
        var death: Day?
        let mortality = age < 50 ? 0.0008 : age < 70 ? 0.006 : age < 80 ? 0.02 : age < 90 ? 0.06 : 0.15
        if r.chance(mortality * 1.5) {
            let d = day(between: max(start, dataTo.adding(months: -18)), and: dataTo, &r)
            death = d
            registrations[registrations.count - 1].end = d
        } else if r.chance(0.035) {
            registrations[registrations.count - 1].end = day(between: start, and: dataTo.adding(days: -1), &r)
        }
        let nhs = r.chance(0.995) ? NHSNumber.completing(999_000_000 + nhsIndex % 1_000_000) : nil
        var p = SynthPatient(
            id: "\(practice)-\(String(index + 1))", nhsNumber: nhs, birth: birth, sex: sex, death: death,
            lsoa: neighbourhood.isEmpty || r.chance(0.03) ? nil : r.pick(neighbourhood),
            ethnicity: ethnicityCodes.isEmpty || r.chance(0.12) ? nil : r.pick(ethnicityCodes),
            registrations: registrations)
        var conditions: [ConditionModel.ID: Day] = [:]
        for model in ConditionModel.all {
            let risk = model.relativeRisk(age) * (scales[model.id] ?? 0)
            guard r.chance(min(0.95, risk)) else { continue }
            let onsetFloor = max(birth.adding(years: model.minimumAge), birth)
            // ~4% of diagnoses are recent (last 9 months), the rest spread over the years before.
            let diagnosed = r.chance(0.04)
                ? day(between: max(onsetFloor, dataTo.adding(months: -9)), and: dataTo, &r)
                : day(between: max(onsetFloor, dataTo.adding(years: -20)), and: dataTo.adding(months: -9), &r)
            guard let c = code(model.cluster, &r) else { continue }
            p.events.append(SynthEvent(date: diagnosed, code: c, kind: .condition))
            if r.chance(model.resolvedShare), let resolved = model.resolvedCluster, let rc = code(resolved, &r),
                diagnosed < dataTo
            {
                p.events.append(SynthEvent(date: day(between: diagnosed.adding(days: 1), and: dataTo, &r), code: rc, kind: .condition))
            } else {
                conditions[model.id] = diagnosed
            }
        }
        Monitoring(generator: self, dataTo: dataTo, age: age).record(&p, conditions: conditions, &r)
        return p
    }
}
