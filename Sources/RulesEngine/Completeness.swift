import Clusters

/// How complete the code lists behind one indicator are: every figure carries it, so a 0 % that really
/// means "code list missing" can never pass for a real 0 %.
public struct Completeness: Sendable, Codable, Hashable {
    /// The closed vocabulary of completeness.
    public enum Status: String, Sendable, Codable, Hashable, CaseIterable {
        /// Every cluster the indicator reads is an official list (shipped or imported).
        case complete
        /// Some cluster is a labelled stand-in for the official list (see `shared/codelists/SOURCES.md`).
        case standIn = "stand-in"
        /// Some cluster has no codes at all (declared by refset id; `qofd clusters import` brings it).
        case missing
    }

    /// Which way a missing list can move the figure shown.
    public enum Direction: String, Sendable, Codable, Hashable {
        /// The true achievement can only be higher than the figure shown (fewer selected, fewer excluded).
        case understated
        /// The true achievement can only be lower than the figure shown.
        case overstated
        /// Either way: the register or the denominator's selection reads the missing list.
        case either
        /// Only named counts (e.g. a cohort's "declined") read the missing list; the achievement does not.
        case countsOnly = "counts-only"
    }

    public var status: Status
    /// False when a rule that puts patients on the register, in the denominator or in the numerator reads
    /// only missing lists: the figure is then not a measurement and is shown as "cannot be computed".
    public var computable: Bool
    public var missing: [String]
    public var standIns: [String]
    /// For missing lists: which way the figure can be wrong (nil when nothing is missing).
    public var direction: Direction?

    public init(status: Status, computable: Bool, missing: [String], standIns: [String], direction: Direction?) {
        self.status = status
        self.computable = computable
        self.missing = missing
        self.standIns = standIns
        self.direction = direction
    }

    public static let complete = Completeness(status: .complete, computable: true, missing: [], standIns: [], direction: nil)

    /// One line for people: what is wrong and what it means for the figure.
    public var words: String {
        switch status {
        case .complete: return "code lists complete"
        case .standIn: return "uses stand-in code lists: \(standIns.joined(separator: ", "))"
        case .missing:
            let lists = missing.joined(separator: ", ")
            if !computable { return "cannot be computed: code lists missing (\(lists))" }
            switch direction {
            case .understated: return "incomplete: code lists missing (\(lists)); the true figure can only be higher"
            case .overstated: return "incomplete: code lists missing (\(lists)); the true figure can only be lower"
            case .countsOnly: return "code lists missing (\(lists)) for named counts only; the achievement is not affected"
            default: return "incomplete: code lists missing (\(lists)); the figure may be higher or lower"
            }
        }
    }

    /// The short label a table cell or a CSV column shows.
    public var label: String { computable ? status.rawValue : "not computable" }
}

extension Completeness.Direction {
    func merged(_ other: Self?) -> Self {
        guard let other, other != .countsOnly else { return self }
        if self == .countsOnly { return other }
        return self == other ? self : .either
    }
}

/// Works out each indicator's completeness from the rules and the cluster versions a compiled ruleset
/// bound: which clusters each rule reads (through fields, the fields their windows depend on, `in`
/// tests and registers), and whether each is official, a stand-in or missing.
enum CompletenessAnalysis {
    static func indicators(_ ruleset: Ruleset, versions: [String: String]) -> [String: Completeness] {
        let fields = Dictionary(ruleset.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let registers = Dictionary(ruleset.registers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var fieldMemo: [String: (all: Set<String>, dead: Bool)] = [:]
        func missing(_ c: String) -> Bool { versions[c] == "missing" }

        /// Clusters a field reads (with those of the fields its window depends on), and whether the field
        /// itself is dead: every one of its own clusters is missing, so it is always null.
        func field(_ name: String, _ seen: Set<String> = []) -> (all: Set<String>, dead: Bool) {
            if let m = fieldMemo[name] { return m }
            guard let f = fields[name], !seen.contains(name) else { return ([], false) }
            var all = Set(f.clusters)
            for d in f.dependencies { all.formUnion(field(d, seen.union([name])).all) }
            let out = (all, !f.clusters.isEmpty && f.clusters.allSatisfy(missing))
            fieldMemo[name] = out
            return out
        }
        var registerMemo: [String: (all: Set<String>, dead: Bool)] = [:]
        /// Clusters a register reads, and whether every select rule of its chain reads only dead inputs.
        func register(_ id: String, _ seen: Set<String> = []) -> (all: Set<String>, dead: Bool) {
            if let m = registerMemo[id] { return m }
            guard let chain = registers[id], !seen.contains(id) else { return ([], false) }
            var all = Set<String>()
            var selects = 0, deadSelects = 0
            for rule in chain.rules {
                let r = ruleInputs(rule, seen.union([id]))
                all.formUnion(r.all)
                if rule.then == .select || rule.otherwise == .select {
                    selects += 1
                    if r.dead { deadSelects += 1 }
                }
            }
            let out = (all, selects > 0 && selects == deadSelects)
            registerMemo[id] = out
            return out
        }
        /// Clusters a rule reads, and whether it reads a dead field, a dead register or a missing `in` cluster.
        func ruleInputs(_ rule: Rule, _ seen: Set<String> = []) -> (all: Set<String>, dead: Bool) {
            var all = rule.condition.clusters
            var dead = all.contains(where: missing)
            for name in rule.condition.references {
                let f = fields[name] != nil ? field(name) : register(name, seen)
                all.formUnion(f.all)
                dead = dead || f.dead
            }
            return (all, dead)
        }

        var out: [String: Completeness] = [:]
        for ind in ruleset.indicators {
            var used = Set<String>()
            var direction: Completeness.Direction?
            var computable = true
            let reg = register(ind.register)
            used.formUnion(reg.all)
            if reg.all.contains(where: missing) { direction = .either }
            if reg.dead { computable = false }
            for (c, chain) in [ind.denominator, ind.numerator].enumerated() {
                for (k, rule) in chain.rules.enumerated() {
                    let r = ruleInputs(rule)
                    used.formUnion(r.all)
                    let selects = rule.then == .select || rule.otherwise == .select
                    if selects && r.dead && !(c == 1 && rule.field != nil) { computable = false }
                    guard r.all.contains(where: missing) else { continue }
                    let d: Completeness.Direction
                    switch (c, selects) {
                    case (0, true): d = .either
                    case (0, false): d = .understated  // fewer PCAs and exclusions: non-achievers stay in
                    case (_, true): d = .understated
                    default:
                        // A numerator reject moves the figure only if a later rule could still select.
                        let laterSelect = chain.rules[(k + 1)...].contains { $0.then == .select || $0.otherwise == .select }
                        d = laterSelect ? .overstated : .countsOnly
                    }
                    direction = d.merged(direction)
                }
            }
            let missingLists = used.filter(missing).sorted()
            // Lists qofd derived itself (`qofd-*.csv`) are stand-ins too until the official cluster is imported.
            let standIns = used.filter { versions[$0]?.hasPrefix("stand-in") == true || versions[$0]?.hasPrefix("qofd-") == true }.sorted()
            out[ind.id] = Completeness(
                status: !missingLists.isEmpty ? .missing : !standIns.isEmpty ? .standIn : .complete,
                computable: computable, missing: missingLists, standIns: standIns,
                direction: missingLists.isEmpty ? nil : direction ?? .either)
        }
        return out
    }
}
