import Clinical

/// Where a patient ended up for one indicator.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    /// In the denominator and achieving.
    case numerator
    /// In the denominator, not (yet) achieving: the worklist.
    case denominator
    /// Removed from the denominator by a personalised care adjustment.
    case pca
    /// Removed from the denominator by an exclusion (age, frailty, …).
    case excluded
    /// Not on the indicator's register.
    case notInRegister = "not-in-register"
}

/// One patient's outcome for one indicator, with the rule that decided it (1-based; the denominator
/// rule for pca/excluded/denominator, the numerator rule for numerator).
public struct PatientOutcome: Sendable, Codable, Hashable {
    public var patient: String
    public var indicator: String
    public var outcome: Outcome
    /// The deciding rule, e.g. `denominator 9` or `numerator 1`; nil when not on the register.
    public var rule: String?
    /// The CQRS field of a PCA or exclusion.
    public var field: String?
}

/// The counts of one indicator for one practice, as CQRS carries them.
public struct IndicatorResult: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var registerSize: Int
    public var denominator: Int
    public var numerator: Int
    /// Patients removed by each PCA and exclusion field.
    public var fields: [String: Int]
    /// Whether each field is a `pca` or an `exclusion`.
    public var fieldKinds: [String: String]
    /// Percent achieved (numerator / denominator × 100); nil when the denominator is 0.
    public var achievement: Double?
    public var points: Double
    public var maxPoints: Double
    /// How many patients left each chain at each rule (for the rule funnel).
    public var ruleCounts: [RuleCount]

    public init(id: String, register: String, registerSize: Int, denominator: Int, numerator: Int, fields: [String: Int],
                fieldKinds: [String: String], achievement: Double?, points: Double, maxPoints: Double, ruleCounts: [RuleCount]) {
        self.id = id
        self.register = register
        self.registerSize = registerSize
        self.denominator = denominator
        self.numerator = numerator
        self.fields = fields
        self.fieldKinds = fieldKinds
        self.achievement = achievement
        self.points = points
        self.maxPoints = maxPoints
        self.ruleCounts = ruleCounts
    }
}

/// How many patients a rule selected or rejected.
public struct RuleCount: Sendable, Codable, Hashable {
    public var chain: String
    public var rule: Int
    public var action: String
    public var field: String?
    public var count: Int
}

/// One register's size for one practice.
public struct RegisterResult: Sendable, Codable, Hashable {
    public var id: String
    public var size: Int
    public init(id: String, size: Int) {
        self.id = id
        self.size = size
    }
}

/// Everything one ruleset computed for one practice.
public struct PracticeResult: Sendable, Codable {
    public var ods: String
    public var pcn: String?
    public var listSize: Int
    public var registers: [RegisterResult]
    public var indicators: [IndicatorResult]
    /// Each patient's outcome for each indicator whose register they are on (when asked for); a patient of
    /// the population without an outcome for an indicator is not on its register.
    public var patients: [PatientOutcome]?

    public init(ods: String, pcn: String?, listSize: Int, registers: [RegisterResult], indicators: [IndicatorResult],
                patients: [PatientOutcome]?) {
        self.ods = ods
        self.pcn = pcn
        self.listSize = listSize
        self.registers = registers
        self.indicators = indicators
        self.patients = patients
    }
}

/// Points for an achievement: none at or below the lower threshold, all at or above the upper,
/// linear between (QOF payment arithmetic, §3.1 of the facts).
public func points(achievement: Double?, lower: Double, upper: Double, max: Double) -> Double {
    guard let a = achievement else { return 0 }
    if a <= lower { return 0 }
    if a >= upper { return max }
    return max * (a - lower) / (upper - lower)
}

/// Points an indicator earns from this year's records: threshold indicators on the linear scale,
/// register indicators all or nothing. Income-protected indicators earn last year's points, which the
/// records cannot show: 0 here, set by the payment calculation from the protected points supplied.
public func indicatorPoints(_ indicator: Indicator, achievement: Double?, registerSize: Int) -> Double {
    switch indicator.payment {
    case .threshold: points(achievement: achievement, lower: indicator.lowerThreshold, upper: indicator.upperThreshold, max: indicator.points)
    case .register: registerSize > 0 ? indicator.points : 0
    case .protected: 0
    }
}

/// The rules engine: evaluates a compiled ruleset over a practice's population.
public struct Engine: Sendable {
    public let compiled: CompiledRuleset

    public init(_ compiled: CompiledRuleset) { self.compiled = compiled }

    /// Evaluates every register and indicator for every patient in the population (registered and
    /// alive on the achievement date). With `patientOutcomes`, also returns each patient's outcome
    /// for each indicator.
    public func evaluate(_ population: Population, patientOutcomes: Bool = false) -> PracticeResult {
        let ev = PatientEvaluator(compiled: compiled, population: population)
        let rs = compiled.ruleset
        var registerSizes = [Int](repeating: 0, count: rs.registers.count)
        var denominators = [Int](repeating: 0, count: rs.indicators.count)
        var numerators = [Int](repeating: 0, count: rs.indicators.count)
        // exits[indicator][0 = denominator, 1 = numerator][rule] = (selected, rejected)
        var exits = rs.indicators.map { ind in
            [[(Int, Int)](repeating: (0, 0), count: ind.denominator.rules.count),
             [(Int, Int)](repeating: (0, 0), count: ind.numerator.rules.count)]
        }
        var outcomes: [PatientOutcome] = []
        // Labels of deciding rules, made once ("denominator 9", "numerator 1"), shared by every patient.
        let labels = patientOutcomes ? rs.indicators.map { ind in
            (ind.denominator.rules.indices.map { "denominator \($0 + 1)" }, ind.numerator.rules.indices.map { "numerator \($0 + 1)" })
        } : []
        var s = Scratch()
        var listSize = 0
        for p in 0..<population.patientCount where ev.isInPopulation(p) {
            listSize += 1
            ev.prepare(p, &s)
            for r in compiled.registerOrder {
                s.registers[r] = ev.run(compiled.registerRules[r], p, &s).0 == .select
                if s.registers[r] { registerSizes[r] += 1 }
            }
            for (i, ind) in compiled.indicatorRules.enumerated() {
                // Patients not on the indicator's register get no outcome (most patients, for most indicators).
                guard s.registers[ind.register] else { continue }
                let (action, rule) = ev.run(ind.denominator, p, &s)
                var outcome: Outcome
                var decidingRule = 0  // 1-based: denominator rule when positive, numerator rule when negative
                var field: String?
                if action == .reject {
                    exits[i][0][rule].1 += 1
                    let def = rs.indicators[i].denominator.rules[rule]
                    outcome = def.kind == .pca ? .pca : .excluded
                    field = def.field
                    decidingRule = rule + 1
                } else {
                    exits[i][0][rule].0 += 1
                    denominators[i] += 1
                    let (numeratorAction, numeratorRule) = ev.run(ind.numerator, p, &s)
                    if numeratorAction == .select {
                        exits[i][1][numeratorRule].0 += 1
                        numerators[i] += 1
                        outcome = .numerator
                        decidingRule = -(numeratorRule + 1)
                    } else {
                        exits[i][1][numeratorRule].1 += 1
                        outcome = .denominator
                        decidingRule = rule + 1
                        // A named numerator reject says why (e.g. DECLINED, TO_VACCINATE).
                        field = rs.indicators[i].numerator.rules[numeratorRule].field
                    }
                }
                if patientOutcomes {
                    outcomes.append(PatientOutcome(
                        patient: population.patientIDs[p], indicator: rs.indicators[i].id, outcome: outcome,
                        rule: decidingRule > 0 ? labels[i].0[decidingRule - 1] : labels[i].1[-decidingRule - 1], field: field))
                }
            }
        }
        let indicators = rs.indicators.enumerated().map { i, ind -> IndicatorResult in
            var fields: [String: Int] = [:]
            var fieldKinds: [String: String] = [:]
            var ruleCounts: [RuleCount] = []
            for (c, chain) in [ind.denominator, ind.numerator].enumerated() {
                for (r, rule) in chain.rules.enumerated() {
                    let (selected, rejected) = exits[i][c][r]
                    if selected > 0 || rule.then == .select || rule.otherwise == .select {
                        ruleCounts.append(RuleCount(chain: c == 0 ? "denominator" : "numerator", rule: r + 1, action: "select", field: nil, count: selected))
                        // A named numerator rule tallies within the denominator (e.g. vaccinated by the practice).
                        if c == 1, let f = rule.field {
                            fields[f, default: 0] += selected
                            fieldKinds[f] = "select"
                        }
                    }
                    if rejected > 0 || rule.then == .reject || rule.otherwise == .reject {
                        ruleCounts.append(RuleCount(chain: c == 0 ? "denominator" : "numerator", rule: r + 1, action: "reject", field: rule.field,
                                                    count: rejected))
                        if let f = rule.field {
                            fields[f, default: 0] += rejected
                            fieldKinds[f] = c == 0 ? rule.kind.rawValue : "reject"
                        }
                    }
                }
            }
            let achievement = denominators[i] > 0 ? 100 * Double(numerators[i]) / Double(denominators[i]) : nil
            return IndicatorResult(
                id: ind.id, register: ind.register, registerSize: registerSizes[compiled.indicatorRules[i].register],
                denominator: denominators[i], numerator: numerators[i], fields: fields, fieldKinds: fieldKinds, achievement: achievement,
                points: indicatorPoints(ind, achievement: achievement, registerSize: registerSizes[compiled.indicatorRules[i].register]),
                maxPoints: ind.points, ruleCounts: ruleCounts)
        }
        return PracticeResult(
            ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: listSize,
            registers: rs.registers.enumerated().map { RegisterResult(id: $1.id, size: registerSizes[$0]) },
            indicators: indicators, patients: patientOutcomes ? outcomes : nil)
    }
}
