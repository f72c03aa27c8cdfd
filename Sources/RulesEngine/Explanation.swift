import Clinical
import Clusters

/// The rule-by-rule story of one patient: which rules were evaluated, with the values and dates
/// that decided them, in words a practice manager can follow.
public struct Explanation: Sendable, Codable {
    public struct Step: Sendable, Codable {
        public var chain: String
        public var rule: Int
        public var condition: String
        public var describe: String?
        public var result: Bool
        public var action: String
        public var field: String?
        /// The facts the condition looked at ("latest blood pressure: 146/88 on 2026-01-12").
        public var facts: [String]
        /// The dates of the fields the condition looked at, by field name (absent when none recorded).
        public var dates: [String: String] = [:]
    }

    public var patient: String
    public var inPopulation: Bool
    public var age: Int
    public var steps: [Step]
    public var outcomes: [String: String]

    /// Plain text, one line per step.
    public var text: String {
        var lines = ["Patient \(patient), aged \(age) on the age date\(inPopulation ? "" : " — not registered and alive on the achievement date, so not counted")."]
        var lastChain = ""
        for s in steps {
            if s.chain != lastChain {
                lines.append("")
                lines.append("\(s.chain):")
                lastChain = s.chain
            }
            let verdict = s.action == "next" ? "go on" : s.action
            var line = "  rule \(s.rule): \(s.describe ?? s.condition) — \(s.result ? "yes" : "no") → \(verdict)"
            if let f = s.field, s.action == "reject" { line += " (\(f))" }
            lines.append(line)
            for fact in s.facts { lines.append("      \(fact)") }
        }
        if !outcomes.isEmpty {
            lines.append("")
            for (k, v) in outcomes.sorted(by: { $0.key < $1.key }) { lines.append("\(k): \(v)") }
        }
        return lines.joined(separator: "\n")
    }
}

extension Engine {
    /// Explains one patient: every register rule and, for the chosen indicators (all when empty),
    /// every denominator and numerator rule evaluated.
    public func explain(_ population: Population, patient p: Int, indicators: Set<String> = [], library: ClusterLibrary? = nil)
        -> Explanation
    {
        explainer(population, library: library).explain(patient: p, indicators: indicators)
    }

    /// An explainer for many patients of one practice (a worklist): the practice's tables are made once.
    public func explainer(_ population: Population, library: ClusterLibrary? = nil) -> Explainer {
        Explainer(engine: self, population: population, library: library)
    }
}

/// Explains patients of one practice one after another, walking the chains exactly as the engine does
/// (`PatientEvaluator.run`, watching each rule), with the practice's code tables worked out once.
public struct Explainer {
    let engine: Engine
    let population: Population
    let library: ClusterLibrary?
    private let ev: PatientEvaluator
    private let scratch: Scratch
    private let fieldIndex: [String: Int]
    private let registerIndex: [String: Int]
    /// The names each rule reads, sorted (registers' rules, each indicator's denominator and numerator rules),
    /// and the registers each indicator needs: worked out once, not once per patient.
    private let registerRefs: [[[String]]]
    private let denominatorRefs: [[[String]]]
    private let numeratorRefs: [[[String]]]
    private let registersOfIndicator: [Set<Int>]

    init(engine: Engine, population: Population, library: ClusterLibrary?) {
        self.engine = engine
        self.population = population
        self.library = library
        ev = PatientEvaluator(compiled: engine.compiled, population: population)
        scratch = Scratch(engine.compiled)
        fieldIndex = Dictionary(engine.compiled.ruleset.fields.enumerated().map { ($1.name, $0) }) { a, _ in a }
        let registerIndex = Dictionary(engine.compiled.ruleset.registers.enumerated().map { ($1.id, $0) }) { a, _ in a }
        self.registerIndex = registerIndex
        let rs = engine.compiled.ruleset
        func refs(_ chain: Chain) -> [[String]] { chain.rules.map { $0.condition.references.sorted() } }
        registerRefs = rs.registers.map(refs)
        denominatorRefs = rs.indicators.map { refs($0.denominator) }
        numeratorRefs = rs.indicators.map { refs($0.numerator) }
        let registerRefs = self.registerRefs
        registersOfIndicator = rs.indicators.enumerated().map { i, ind in
            var needed = Set<Int>()
            func need(_ r: Int) {
                guard needed.insert(r).inserted else { return }
                for name in registerRefs[r].joined() { if let d = registerIndex[name] { need(d) } }
            }
            need(engine.compiled.indicatorRules[i].register)
            for name in (ind.denominator.rules + ind.numerator.rules).flatMap({ $0.condition.references }) { if let r = registerIndex[name] { need(r) } }
            return needed
        }
    }

    /// How much an explanation says: everything (a patient's page), or what a worklist line reads (the
    /// indicator's own chains, with the facts of the numerator rules and the dates of the denominator rules;
    /// registers are decided without recording their steps).
    public enum Detail: Sendable { case full, worklist }

    public func explain(patient p: Int, indicators: Set<String> = [], detail: Detail = .full) -> Explanation {
        let registerSteps = detail == .full
        let compiled = engine.compiled
        let rs = compiled.ruleset
        let scratch = self.scratch
        // The fields the chosen indicators read (every field when none is chosen, to show them all).
        let open = indicators.isEmpty ? IndicatorMask(repeating: .max)
            : rs.indicators.indices.filter { indicators.contains(rs.indicators[$0].id) }.reduce(IndicatorMask.zero) { $0 | .indicator($1) }
        ev.withRecords { records in
            ev.prepare(p, scratch, records)
            ev.prepareGated(p, scratch, records, indicators: open)
        }
        var steps: [Explanation.Step] = []
        var outcomes: [String: String] = [:]

        func facts(_ rule: Rule, _ names: [String]) -> [String] {
            names.compactMap { name -> String? in
                if let f = fieldIndex[name] { return engine.describe(field: f, scratch.values[f], population: population, library: library) }
                switch name {
                case "PAT_AGE": return "age: \(population.birthDates[p].age(on: compiled.ageOn)) on \(compiled.ageOn)"
                case "REG_DAT": return "registered since: \(ev.registrationStart(p).map { "\($0)" } ?? "not registered")"
                case "PAT_DOB": return "born: \(population.birthDates[p])"
                case "PAT_SEX": return "sex: \(population.sexes[p].letter)"
                case "PAT_ETHNICITY":
                    let e = population.ethnicity[p]
                    return e < 0 ? "ethnicity: none recorded" : "ethnicity: \(population.codes[e])"
                default: return registerIndex[name].map { "\(name): \(scratch.registers[$0] ? "on the register" : "not on the register")" }
                }
            }
        }
        func dates(_ names: [String]) -> [String: String] {
            var out: [String: String] = [:]
            for name in names {
                if let f = fieldIndex[name], !scratch.values[f].isNull { out[name] = scratch.values[f].date.description }
            }
            return out
        }
        func walk(_ chain: Chain, _ resolved: [CompiledRuleset.ResolvedRule], _ refs: [[String]], label: String, facts withFacts: Bool = true,
                  dates withDates: Bool = true) -> (RuleAction, Int) {
            resolved.withUnsafeBufferPointer { rules in
                ev.run(rules, rules.indices, p, scratch) { i, result, action in
                    let def = chain.rules[i]
                    steps.append(Explanation.Step(
                        chain: label, rule: i + 1, condition: def.conditionText, describe: def.describe, result: result,
                        action: action.rawValue, field: def.field, facts: withFacts ? facts(def, refs[i]) : [], dates: withDates ? dates(refs[i]) : [:]))
                }
            }
        }
        // Registers the chosen indicators depend on (all when none are chosen).
        var needed = Set<Int>()
        for (i, ind) in rs.indicators.enumerated() where !indicators.isEmpty && indicators.contains(ind.id) { needed.formUnion(registersOfIndicator[i]) }
        for r in compiled.registerOrder where indicators.isEmpty || needed.contains(r) {
            let chain = rs.registers[r]
            scratch.registers[r] = registerSteps
                ? walk(chain, compiled.registerRules[r], registerRefs[r], label: "\(chain.id) (\(chain.describe))").0 == .select
                : compiled.registerRules[r].withUnsafeBufferPointer { ev.run($0, $0.indices, p, scratch).0 == .select }
        }
        for (i, ind) in rs.indicators.enumerated() where indicators.isEmpty || indicators.contains(ind.id) {
            let compiledRules = compiled.indicatorRules[i]
            guard scratch.registers[compiledRules.register] else {
                outcomes[ind.id] = "not on \(ind.register), so not in \(ind.id)"
                continue
            }
            let (action, rule) = walk(ind.denominator, compiledRules.denominator, denominatorRefs[i], label: "\(ind.id) denominator", facts: detail == .full)
            if action == .reject {
                let def = ind.denominator.rules[rule]
                outcomes[ind.id] = "\(def.kind == .pca ? "personalised care adjustment" : "excluded") at denominator rule \(rule + 1)\(def.field.map { " (\($0))" } ?? "")"
                continue
            }
            let (numeratorAction, _) = walk(ind.numerator, compiledRules.numerator, numeratorRefs[i], label: "\(ind.id) numerator", dates: detail == .full)
            outcomes[ind.id] = numeratorAction == .select ? "achieved (numerator)" : "in the denominator, not yet achieved"
        }
        return Explanation(
            patient: population.patientIDs[p], inPopulation: ev.isInPopulation(p), age: population.birthDates[p].age(on: compiled.ageOn),
            steps: steps, outcomes: outcomes)
    }
}

extension Engine {
    func describe(field f: Int, _ v: FieldValue, population: Population, library: ClusterLibrary?) -> String {
        let def = compiled.ruleset.fields[f]
        guard !v.isNull else { return "\(def.describe): none recorded" }
        if def.kind == .count { return "\(def.describe): \(v.count) (latest \(v.date))" }
        var text = "\(def.describe): "
        func number(_ x: Float) -> String { x.isFinite && abs(x) < 1e15 && x == x.rounded() ? String(Int(x)) : String(x) }
        if !v.value.isNaN, !v.value2.isNaN {
            text += "\(number(v.value))/\(number(v.value2)) on \(v.date)"
        } else if !v.value.isNaN {
            text += "\(number(v.value)) on \(v.date)"
        } else {
            text += "on \(v.date)"
        }
        let concept = population.codes[v.code]
        let term = def.clusters.lazy.compactMap { library?[$0]?.terms[concept] }.first
        text += " (\(concept)\(term.map { " \($0)" } ?? ""))"
        return text
    }
}
