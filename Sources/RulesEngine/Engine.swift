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
    /// for each indicator.
    public func evaluate(_ population: Population, patientOutcomes: Bool = false) -> PracticeResult {
        let ev = PatientEvaluator(compiled: compiled, population: population)
        let rs = compiled.ruleset
        var registerSizes = [Int](repeating: 0, count: rs.registers.count)
        var denominators = [Int](repeating: 0, count: rs.indicators.count)
        var numerators = [Int](repeating: 0, count: rs.indicators.count)
        // exits[indicator][0 = denominator, 1 = numerator][rule] = (selected, rejected)
        // Every chain in one flat array, walked through one pointer, with its counters alongside: the loop
        // over patients touches no reference counts and no nested arrays.
        var flat: [CompiledRuleset.ResolvedRule] = []
        func append(_ rules: [CompiledRuleset.ResolvedRule]) -> Range<Int> {
            let start = flat.count
            flat += rules
            return start..<flat.count
        }
        let registerChains = compiled.registerRules.map(append)
        let denominatorChains = compiled.indicatorRules.map { append($0.denominator) }
        let numeratorChains = compiled.indicatorRules.map { append($0.numerator) }
        // Per flat rule: the outcome a denominator reject gives, and the CQRS field it names.
        var rejectOutcome = [Outcome](repeating: .excluded, count: flat.count)
        var ruleFields = [String?](repeating: nil, count: flat.count)
        for (i, ind) in rs.indicators.enumerated() {
            for (r, rule) in ind.denominator.rules.enumerated() {
                rejectOutcome[denominatorChains[i].lowerBound + r] = rule.kind == .pca ? .pca : .excluded
                ruleFields[denominatorChains[i].lowerBound + r] = rule.field
            }
            for (r, rule) in ind.numerator.rules.enumerated() { ruleFields[numeratorChains[i].lowerBound + r] = rule.field }
        }
        var selected = [Int](repeating: 0, count: flat.count)
        var rejected = [Int](repeating: 0, count: flat.count)
        // Outcomes kept as sets of patient rows by indicator, outcome and deciding rule (patients in list order
        // within each): a set per flat deciding rule and outcome, found by index; named numerator rejects (which
        // also carry their denominator rule) by a small table.
        var sets: [PatientOutcomeSet] = []
        var setOfRule = [Int32](repeating: -1, count: patientOutcomes ? flat.count * 4 : 0)
        var setOfNamedReject: [Int: Int] = [:]
        // Labels of deciding rules, made once ("denominator 9", "numerator 1"), shared by every set.
        let labels = patientOutcomes ? rs.indicators.map { ind in
            (ind.denominator.rules.indices.map { "denominator \($0 + 1)" }, ind.numerator.rules.indices.map { "numerator \($0 + 1)" })
        } : []
        let indicatorIDs = rs.indicators.map(\.id)
        let s = Scratch(compiled)
        let registerOrder = compiled.registerOrder
        let shortcut = compiled.shortcuts.decision
        let triggers = compiled.shortcuts.triggers
        let indicatorsOfRegister = compiled.gates.indicatorsOfRegister
        let recordFreeRules = compiled.gates.recordFreeRules
        let screenedIndicators = compiled.gates.screened
        var listSize = 0
        ev.withRecords { records in flat.withUnsafeBufferPointer { rules in
            for p in 0..<population.patientCount where ev.isInPopulation(p) {
                listSize += 1
                ev.prepare(p, s, records)
                // Registers whose records this patient has are walked; the rest take their shortcut.
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
                // Fields only indicators read, for the indicators open to this patient: on their register and
                // not turned away by their record-free first rules.
                var open = onRegister
                for i in (onRegister & screenedIndicators).members {
                    let first = denominatorChains[i].lowerBound
                    for k in first..<first + recordFreeRules[i] {
                        let action = ev.holds(rules[k].root, p, s) ? rules[k].then : rules[k].otherwise
                        if action == .reject { open.remove(i) }
                        if action != .next { break }
                    }
                }
                ev.prepareGated(p, s, records, indicators: open)
                // Patients not on an indicator's register get no outcome (most patients, for most indicators).
                for i in onRegister.members {
                    let (action, rule) = ev.run(rules, denominatorChains[i], p, s)
                    var outcome: Outcome
                    var decidingRule = 0  // flat index of the deciding rule
                    if action == .reject {
                        rejected[rule] += 1
                        outcome = rejectOutcome[rule]
                        decidingRule = rule
                    } else {
                        selected[rule] += 1
                        denominators[i] += 1
                        let (numeratorAction, numeratorRule) = ev.run(rules, numeratorChains[i], p, s)
                        if numeratorAction == .select {
                            selected[numeratorRule] += 1
                            numerators[i] += 1
                            outcome = .numerator
                            decidingRule = numeratorRule
                        } else {
                            rejected[numeratorRule] += 1
                            outcome = .denominator
                            decidingRule = rule
                            // A named numerator reject says why (e.g. DECLINED, TO_VACCINATE).
                            if patientOutcomes, let f = ruleFields[numeratorRule] {
                                let key = numeratorRule << 24 | rule
                                if let k = setOfNamedReject[key] { sets[k].members.append(Int32(p)) } else {
                                    setOfNamedReject[key] = sets.count
                                    sets.append(PatientOutcomeSet(indicator: indicatorIDs[i], outcome: outcome,
                                                                  rule: labels[i].0[rule - denominatorChains[i].lowerBound], field: f, members: [Int32(p)]))
                                }
                                continue
                            }
                        }
                    }
                    if patientOutcomes {
                        let slot = decidingRule << 2 | (outcome == .numerator ? 0 : outcome == .denominator ? 1 : 2)
                        let k = setOfRule[slot]
                        if k >= 0 { sets[Int(k)].members.append(Int32(p)) } else {
                            setOfRule[slot] = Int32(sets.count)
                            let label = denominatorChains[i].contains(decidingRule)
                                ? labels[i].0[decidingRule - denominatorChains[i].lowerBound]
                                : labels[i].1[decidingRule - numeratorChains[i].lowerBound]
                            sets.append(PatientOutcomeSet(indicator: indicatorIDs[i], outcome: outcome, rule: label,
                                                          field: outcome == .pca || outcome == .excluded ? ruleFields[decidingRule] : nil,
                                                          members: [Int32(p)]))
                        }
                    }
                }
            }
        } }
        let exits = rs.indicators.indices.map { i in
            [denominatorChains[i].map { (selected[$0], rejected[$0]) }, numeratorChains[i].map { (selected[$0], rejected[$0]) }]
        }
        let indicators = rs.indicators.enumerated().map { i, ind -> IndicatorResult in
            var fields: [String: Int] = [:]
            var fieldKinds: [String: FieldKind] = [:]
            var ruleCounts: [RuleCount] = []
            for (c, chain) in [ind.denominator, ind.numerator].enumerated() {
                for (r, rule) in chain.rules.enumerated() {
                    let (selected, rejected) = exits[i][c][r]
                    if selected > 0 || rule.then == .select || rule.otherwise == .select {
                        ruleCounts.append(RuleCount(chain: c == 0 ? "denominator" : "numerator", rule: r + 1, action: "select", field: nil, count: selected))
                        // A named numerator rule tallies within the denominator (e.g. vaccinated by the practice).
                        if c == 1, let f = rule.field {
                            fields[f, default: 0] += selected
                            fieldKinds[f] = .tally
                        }
                    }
                    if rejected > 0 || rule.then == .reject || rule.otherwise == .reject {
                        ruleCounts.append(RuleCount(chain: c == 0 ? "denominator" : "numerator", rule: r + 1, action: "reject", field: rule.field,
                                                    count: rejected))
                        if let f = rule.field {
                            fields[f, default: 0] += rejected
                            fieldKinds[f] = c == 0 ? rule.kind : .tally
                        }
                    }
                }
            }
            let achievement = denominators[i] > 0 ? 100 * Double(numerators[i]) / Double(denominators[i]) : nil
            return IndicatorResult(
                id: ind.id, register: ind.register, registerSize: registerSizes[compiled.indicatorRules[i].register],
                denominator: denominators[i], numerator: numerators[i], fields: fields, fieldKinds: fieldKinds, achievement: achievement,
                points: indicatorPoints(ind, achievement: achievement, registerSize: registerSizes[compiled.indicatorRules[i].register]),
                maxPoints: ind.points, ruleCounts: ruleCounts, completeness: compiled.completeness[ind.id] ?? .complete)
        }
        return PracticeResult(
            ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: listSize,
            registers: rs.registers.enumerated().map { RegisterResult(id: $1.id, size: registerSizes[$0]) },
            indicators: indicators, outcomeSets: patientOutcomes ? sets : nil, patientIDs: population.patientIDs)
    }
}
