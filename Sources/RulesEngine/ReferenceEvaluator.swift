import Clinical
import Clusters

/// The plain reference evaluator: the rule file's meaning written as directly as Swift allows, beside the
/// optimised `Engine` (ehrQL keeps a small in-memory engine for exactly this). It reads the parsed rule
/// trees, not the compiled program; it works every field out from the patient's records when a rule first
/// asks for it; no raw memory, no gates, no shortcuts, no precomputed thresholds. It is slow on purpose and
/// exists so that generative tests can check the engine against it, outcome by outcome and count by count.
public struct ReferenceEvaluator: Sendable {
    public let ruleset: Ruleset
    public let achievementDate: Day
    let ageOn: Day
    /// The concepts each cluster name stands for: its list in the library, else its declared stand-in, else none.
    let clusters: [String: Set<UInt64>]
    let versions: [String: String]
    /// PPSD, PPED, ACHV_DAT and the rule file's own key dates.
    let keyDates: [String: Day]
    let fieldIndex: [String: Int]
    let registerIndex: [String: Int]

    public init(_ ruleset: Ruleset, achievementDate: Day? = nil, library: ClusterLibrary) {
        self.ruleset = ruleset
        let achv = achievementDate ?? ruleset.payPeriodEnd
        self.achievementDate = achv
        switch ruleset.ageOn {
        case .achievementDate: ageOn = achv
        case .fixed(let d): ageOn = d
        }
        var names = Set(ruleset.fields.flatMap(\.clusters))
        for chain in ruleset.registers + ruleset.indicators.flatMap({ [$0.denominator, $0.numerator] }) {
            for rule in chain.rules { names.formUnion(rule.condition.clusters) }
        }
        for f in ruleset.fields {
            for e in [f.after, f.onOrAfter, f.before, f.onOrBefore].compactMap({ $0 }) { names.formUnion(e.clusters) }
        }
        var clusters: [String: Set<UInt64>] = [:]
        var versions: [String: String] = [:]
        for name in names {
            if let list = library[name] {
                clusters[name] = list.concepts
                versions[name] = "\(list.source)#\(list.fingerprint)"
            } else if let standIn = ruleset.clusters[name]?.standIn, let list = library[standIn] {
                clusters[name] = list.concepts
                versions[name] = "stand-in \(list.source)#\(list.fingerprint)"
            } else {
                clusters[name] = []
                versions[name] = "missing"
            }
        }
        self.clusters = clusters
        self.versions = versions
        keyDates = ruleset.keyDates.merging(["PPSD": ruleset.payPeriodStart, "PPED": ruleset.payPeriodEnd, "ACHV_DAT": achv]) { _, builtin in builtin }
        fieldIndex = Dictionary(uniqueKeysWithValues: ruleset.fields.enumerated().map { ($1.name, $0) })
        registerIndex = Dictionary(uniqueKeysWithValues: ruleset.registers.enumerated().map { ($1.id, $0) })
    }

    /// Every register and indicator for every patient registered and alive on the achievement date, with
    /// each patient's outcome for each indicator whose register they are on.
    public func evaluate(_ population: Population) -> PracticeResult {
        var listSize = 0
        var registerSizes = [Int](repeating: 0, count: ruleset.registers.count)
        var decisions: [[Decision]] = Array(repeating: [], count: ruleset.indicators.count)
        var outcomes: [PatientOutcome] = []
        for p in 0..<population.patientCount where isCounted(p, population) {
            listSize += 1
            let patient = ReferencePatient(evaluator: self, population: population, row: p)
            for r in ruleset.registers.indices where patient.register(r) { registerSizes[r] += 1 }
            for (i, indicator) in ruleset.indicators.enumerated() {
                guard patient.register(registerIndex[indicator.register]!) else { continue }
                let d = decide(indicator, patient)
                decisions[i].append(d)
                outcomes.append(PatientOutcome(patient: population.patientIDs[p], indicator: indicator.id, outcome: d.outcome, rule: d.label, field: d.field))
            }
        }
        let completeness = CompletenessAnalysis.indicators(ruleset, versions: versions)
        let indicators = ruleset.indicators.enumerated().map { i, indicator in
            summarise(indicator, decisions[i], registerSize: registerSizes[registerIndex[indicator.register]!],
                      completeness: completeness[indicator.id] ?? .complete)
        }
        return PracticeResult(
            ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: listSize,
            registers: ruleset.registers.enumerated().map { RegisterResult(id: $1.id, size: registerSizes[$0]) },
            indicators: indicators, patients: outcomes)
    }

    /// Registered on the achievement date and alive on it.
    func isCounted(_ p: Int, _ population: Population) -> Bool {
        guard population.deathDates[p] > achievementDate else { return false }
        return population.registrationRange(p).contains { population.registrations[$0].contains(achievementDate) }
    }

    /// How one patient on an indicator's register came out, and which rules decided it.
    struct Decision {
        var outcome: Outcome
        /// The deciding rule as the engine labels it (`denominator 3`, `numerator 1`).
        var label: String
        var field: String?
        /// The 0-based rules that selected or rejected the patient in each chain (nil: chain not walked).
        var denominatorRule: Int
        var denominatorAction: RuleAction
        var numeratorRule: Int?
        var numeratorAction: RuleAction?
    }

    func decide(_ indicator: Indicator, _ patient: ReferencePatient) -> Decision {
        let (action, rule) = walk(indicator.denominator, patient)
        if action == .reject {
            let r = indicator.denominator.rules[rule]
            return Decision(outcome: r.kind == .pca ? .pca : .excluded, label: "denominator \(rule + 1)", field: r.field,
                            denominatorRule: rule, denominatorAction: action)
        }
        let (numeratorAction, numeratorRule) = walk(indicator.numerator, patient)
        if numeratorAction == .select {
            return Decision(outcome: .numerator, label: "numerator \(numeratorRule + 1)", field: nil, denominatorRule: rule,
                            denominatorAction: action, numeratorRule: numeratorRule, numeratorAction: numeratorAction)
        }
        // In the denominator, not achieving; a named numerator reject says why (declined, to vaccinate).
        return Decision(outcome: .denominator, label: "denominator \(rule + 1)", field: indicator.numerator.rules[numeratorRule].field,
                        denominatorRule: rule, denominatorAction: action, numeratorRule: numeratorRule, numeratorAction: numeratorAction)
    }

    /// The first rule whose action is Select or Reject decides (a chain that runs out rejects at its last rule).
    func walk(_ chain: Chain, _ patient: ReferencePatient) -> (RuleAction, Int) {
        for (i, rule) in chain.rules.enumerated() {
            let action = patient.value(of: rule.condition).truthy ? rule.then : rule.otherwise
            if action != .next { return (action, i) }
        }
        return (.reject, chain.rules.count - 1)
    }

    /// An indicator's counts, fields and rule funnel from its patients' decisions.
    func summarise(_ indicator: Indicator, _ decisions: [Decision], registerSize: Int, completeness: Completeness) -> IndicatorResult {
        let denominator = decisions.filter { $0.denominatorAction == .select }.count
        let numerator = decisions.filter { $0.outcome == .numerator }.count
        var fields: [String: Int] = [:]
        var kinds: [String: FieldKind] = [:]
        var ruleCounts: [RuleCount] = []
        for (c, chain) in [indicator.denominator, indicator.numerator].enumerated() {
            let name = c == 0 ? "denominator" : "numerator"
            for (r, rule) in chain.rules.enumerated() {
                let deciding = decisions.filter { c == 0 ? $0.denominatorRule == r : $0.numeratorRule == r }
                let selected = deciding.filter { (c == 0 ? $0.denominatorAction : $0.numeratorAction) == .select }.count
                let rejected = deciding.count - selected
                if selected > 0 || rule.then == .select || rule.otherwise == .select {
                    ruleCounts.append(RuleCount(chain: name, rule: r + 1, action: "select", field: nil, count: selected))
                    if c == 1, let f = rule.field {
                        fields[f, default: 0] += selected
                        kinds[f] = .tally
                    }
                }
                if rejected > 0 || rule.then == .reject || rule.otherwise == .reject {
                    ruleCounts.append(RuleCount(chain: name, rule: r + 1, action: "reject", field: rule.field, count: rejected))
                    if let f = rule.field {
                        fields[f, default: 0] += rejected
                        kinds[f] = c == 0 ? rule.kind : .tally
                    }
                }
            }
        }
        let achievement = denominator > 0 ? 100 * Double(numerator) / Double(denominator) : nil
        return IndicatorResult(
            id: indicator.id, register: indicator.register, registerSize: registerSize, denominator: denominator, numerator: numerator,
            fields: fields, fieldKinds: kinds, achievement: achievement,
            points: indicatorPoints(indicator, achievement: achievement, registerSize: registerSize), maxPoints: indicator.points,
            ruleCounts: ruleCounts, completeness: completeness)
    }
}
