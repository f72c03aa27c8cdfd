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

/// The counts of one indicator for one practice, as CQRS carries them.
public struct IndicatorResult: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var registerSize: Int
    public var denominator: Int
    public var numerator: Int
    /// Patients removed by each PCA and exclusion field.
    public var fields: [String: Int]
    /// Whether each field is a PCA, an exclusion or (vaccination cohorts) a tally inside the denominator.
    public var fieldKinds: [String: FieldKind]
    /// How complete the code lists behind the figure are.
    public var completeness: Completeness
    /// Percent achieved (numerator / denominator × 100); nil when the denominator is 0.
    public var achievement: Double?
    public var points: Double
    public var maxPoints: Double
    /// How many patients left each chain at each rule (for the rule funnel).
    public var ruleCounts: [RuleCount]

    public init(id: String, register: String, registerSize: Int, denominator: Int, numerator: Int, fields: [String: Int],
                fieldKinds: [String: FieldKind], achievement: Double?, points: Double, maxPoints: Double, ruleCounts: [RuleCount],
                completeness: Completeness = .complete) {
        self.completeness = completeness
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
    /// for each indicator. The parts: the chains laid out once (`ChainLayout`); then, patient by patient,
    /// their registers (walked, or decided by a shortcut when the patient has none of their records), the
    /// indicators open to them, and each indicator's denominator and numerator chains, counted as they go
    /// (kept in one loop with local counters: it runs for every patient of England) and, when asked, collected
    /// as outcome sets (`OutcomeCollector`); last, the counts summed up per indicator (`Tally.summary`).
    public func evaluate(_ population: Population, patientOutcomes: Bool = false) -> PracticeResult {
        let ev = PatientEvaluator(compiled: compiled, population: population)
        let rs = compiled.ruleset
        let layout = ChainLayout(compiled)
        var collector = patientOutcomes ? OutcomeCollector(compiled, rules: layout.flat.count) : nil
        var registerSizes = [Int](repeating: 0, count: rs.registers.count)
        var denominators = [Int](repeating: 0, count: rs.indicators.count)
        var numerators = denominators
        var selected = [Int](repeating: 0, count: layout.flat.count)
        var rejected = selected
        var listSize = 0
        // What the loop reads for every patient, taken out once.
        let s = Scratch(compiled)
        let (registerChains, denominatorChains, numeratorChains) = (layout.registerChains, layout.denominatorChains, layout.numeratorChains)
        let (rejectOutcome, ruleFields) = (layout.rejectOutcome, layout.ruleFields)
        let registerOrder = compiled.registerOrder
        let (shortcut, triggers) = (compiled.shortcuts.decision, compiled.shortcuts.triggers)
        let (indicatorsOfRegister, recordFreeRules, screened) = (compiled.gates.indicatorsOfRegister, compiled.gates.recordFreeRules, compiled.gates.screened)
        ev.withRecords { records in layout.flat.withUnsafeBufferPointer { rules in
            for p in 0..<population.patientCount where ev.isInPopulation(p) {
                listSize += 1
                ev.prepare(p, s, records)
                // Registers: those whose records this patient has are walked; the rest take their shortcut.
                var walk: UInt64 = 0
                for i in 0..<s.touchedCount { walk |= triggers[Int(s.touched[i])] }
                var onRegister = IndicatorMask.zero
                for r in registerOrder {
                    if let d = shortcut[r], walk & (1 << UInt64(r)) == 0 {
                        s.registers[r] = d
                    } else {
                        s.registers[r] = ev.run(rules, registerChains[r], p, s).0 == .select
                    }
                    if s.registers[r] {
                        registerSizes[r] += 1
                        onRegister |= indicatorsOfRegister[r]
                    }
                }
                // The indicators open to the patient: on their register and not turned away by their record-free
                // first rules; fields only these indicators read are worked out.
                var open = onRegister
                for i in (onRegister & screened).members {
                    let first = denominatorChains[i].lowerBound
                    for k in first..<first + recordFreeRules[i] {
                        let action = ev.holds(rules[k].root, p, s) ? rules[k].then : rules[k].otherwise
                        if action == .reject { open.remove(i) }
                        if action != .next { break }
                    }
                }
                ev.prepareGated(p, s, records, indicators: open)
                // Each indicator whose register the patient is on (most patients are on few): denominator, then numerator.
                for i in onRegister.members {
                    let (action, rule) = ev.run(rules, denominatorChains[i], p, s)
                    if action == .reject {
                        rejected[rule] += 1
                        collector?.add(p, indicator: i, rejectOutcome[rule], decidingRule: rule, layout)
                        continue
                    }
                    selected[rule] += 1
                    denominators[i] += 1
                    let (numeratorAction, numeratorRule) = ev.run(rules, numeratorChains[i], p, s)
                    if numeratorAction == .select {
                        selected[numeratorRule] += 1
                        numerators[i] += 1
                        collector?.add(p, indicator: i, .numerator, decidingRule: numeratorRule, layout)
                    } else {
                        rejected[numeratorRule] += 1
                        if let f = ruleFields[numeratorRule], collector != nil {
                            // A named numerator reject says why (e.g. DECLINED, TO_VACCINATE).
                            collector!.addNamedReject(p, indicator: i, denominatorRule: rule, numeratorRule: numeratorRule, field: f, layout)
                        } else {
                            collector?.add(p, indicator: i, .denominator, decidingRule: rule, layout)
                        }
                    }
                }
            }
        } }
        let tally = Tally(listSize: listSize, registerSizes: registerSizes, denominators: denominators, numerators: numerators,
                          selected: selected, rejected: rejected)
        return PracticeResult(
            ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: listSize,
            registers: rs.registers.enumerated().map { RegisterResult(id: $1.id, size: registerSizes[$0]) },
            indicators: tally.summary(compiled, layout), outcomeSets: collector?.sets, patientIDs: population.patientIDs)
    }
}
