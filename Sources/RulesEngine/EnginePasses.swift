import Clinical

extension Engine {
    /// Every chain of the ruleset in one flat array (walked through one pointer, with its counters alongside:
    /// the loop over patients touches no reference counts and no nested arrays), with what each rule means
    /// for the counts: the outcome a denominator reject gives, and the CQRS field it names.
    struct ChainLayout {
        let flat: [CompiledRuleset.ResolvedRule]
        let registerChains: [Range<Int>]
        let denominatorChains: [Range<Int>]
        let numeratorChains: [Range<Int>]
        let rejectOutcome: [Outcome]
        let ruleFields: [String?]

        init(_ compiled: CompiledRuleset) {
            var flat: [CompiledRuleset.ResolvedRule] = []
            func append(_ rules: [CompiledRuleset.ResolvedRule]) -> Range<Int> {
                let start = flat.count
                flat += rules
                return start..<flat.count
            }
            registerChains = compiled.registerRules.map(append)
            denominatorChains = compiled.indicatorRules.map { append($0.denominator) }
            numeratorChains = compiled.indicatorRules.map { append($0.numerator) }
            var rejectOutcome = [Outcome](repeating: .excluded, count: flat.count)
            var ruleFields = [String?](repeating: nil, count: flat.count)
            for (i, ind) in compiled.ruleset.indicators.enumerated() {
                for (r, rule) in ind.denominator.rules.enumerated() {
                    rejectOutcome[denominatorChains[i].lowerBound + r] = rule.kind == .pca ? .pca : .excluded
                    ruleFields[denominatorChains[i].lowerBound + r] = rule.field
                }
                for (r, rule) in ind.numerator.rules.enumerated() { ruleFields[numeratorChains[i].lowerBound + r] = rule.field }
            }
            self.flat = flat
            self.rejectOutcome = rejectOutcome
            self.ruleFields = ruleFields
        }
    }

    /// The practice's counts once the patients are walked: register sizes, denominators and numerators per
    /// indicator, and how many patients each flat rule selected and rejected.
    struct Tally {
        var listSize = 0
        var registerSizes: [Int]
        var denominators: [Int]
        var numerators: [Int]
        var selected: [Int]
        var rejected: [Int]

        /// Each indicator's result: counts, its CQRS fields (PCAs, exclusions, a cohort's tallies), its rule funnel,
        /// achievement and points.
        func summary(_ compiled: CompiledRuleset, _ layout: ChainLayout) -> [IndicatorResult] {
            compiled.ruleset.indicators.enumerated().map { i, ind -> IndicatorResult in
                var fields: [String: Int] = [:]
                var fieldKinds: [String: FieldKind] = [:]
                var ruleCounts: [RuleCount] = []
                for (c, (chain, range)) in [(ind.denominator, layout.denominatorChains[i]), (ind.numerator, layout.numeratorChains[i])].enumerated() {
                    for (r, rule) in chain.rules.enumerated() {
                        let (selected, rejected) = (self.selected[range.lowerBound + r], self.rejected[range.lowerBound + r])
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
                let registerSize = registerSizes[compiled.indicatorRules[i].register]
                let achievement = denominators[i] > 0 ? 100 * Double(numerators[i]) / Double(denominators[i]) : nil
                return IndicatorResult(
                    id: ind.id, register: ind.register, registerSize: registerSize, denominator: denominators[i], numerator: numerators[i],
                    fields: fields, fieldKinds: fieldKinds, achievement: achievement,
                    points: indicatorPoints(ind, achievement: achievement, registerSize: registerSize), maxPoints: ind.points,
                    ruleCounts: ruleCounts, completeness: compiled.completeness[ind.id] ?? .complete)
            }
        }
    }

    /// Patients' outcomes kept as sets of patient rows by indicator, outcome and deciding rule (patients in
    /// list order within each): a set per flat deciding rule and outcome, found by index; named numerator
    /// rejects (which also carry their denominator rule) by a small table.
    struct OutcomeCollector {
        var sets: [PatientOutcomeSet] = []
        private var setOfRule: [Int32]
        private var setOfNamedReject: [Int: Int] = [:]
        /// Labels of deciding rules, made once ("denominator 9", "numerator 1"), shared by every set.
        private let labels: [(denominator: [String], numerator: [String])]
        private let indicatorIDs: [String]

        init(_ compiled: CompiledRuleset, rules: Int) {
            setOfRule = [Int32](repeating: -1, count: rules * 4)
            labels = compiled.ruleset.indicators.map { ind in
                (ind.denominator.rules.indices.map { "denominator \($0 + 1)" }, ind.numerator.rules.indices.map { "numerator \($0 + 1)" })
            }
            indicatorIDs = compiled.ruleset.indicators.map(\.id)
        }

        /// Patient `p` of indicator `i` came out as `outcome`, decided by flat rule `decidingRule`.
        mutating func add(_ p: Int, indicator i: Int, _ outcome: Outcome, decidingRule: Int, _ layout: ChainLayout) {
            let slot = decidingRule << 2 | (outcome == .numerator ? 0 : outcome == .denominator ? 1 : 2)
            let k = setOfRule[slot]
            if k >= 0 { sets[Int(k)].members.append(Int32(p)); return }
            setOfRule[slot] = Int32(sets.count)
            let label = layout.denominatorChains[i].contains(decidingRule)
                ? labels[i].denominator[decidingRule - layout.denominatorChains[i].lowerBound]
                : labels[i].numerator[decidingRule - layout.numeratorChains[i].lowerBound]
            sets.append(PatientOutcomeSet(indicator: indicatorIDs[i], outcome: outcome, rule: label,
                                          field: outcome == .pca || outcome == .excluded ? layout.ruleFields[decidingRule] : nil, members: [Int32(p)]))
        }

        /// Patient `p` is in indicator `i`'s denominator (by flat rule `denominatorRule`) and not achieving, and
        /// the numerator rule that turned them away names why (declined, to vaccinate).
        mutating func addNamedReject(_ p: Int, indicator i: Int, denominatorRule: Int, numeratorRule: Int, field: String, _ layout: ChainLayout) {
            let key = numeratorRule << 24 | denominatorRule
            if let k = setOfNamedReject[key] { sets[k].members.append(Int32(p)); return }
            setOfNamedReject[key] = sets.count
            sets.append(PatientOutcomeSet(indicator: indicatorIDs[i], outcome: .denominator,
                                          rule: labels[i].denominator[denominatorRule - layout.denominatorChains[i].lowerBound], field: field,
                                          members: [Int32(p)]))
        }
    }
}
