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
/// bound: which clusters each rule reads (through fields, the fields their windows depend on, `in` tests
/// and registers), whether each is official, a stand-in or missing, and whether a chain can still select
/// anyone when every field made only of missing clusters is null.
enum CompletenessAnalysis {
    /// What a condition is known to be when dead inputs are null and everything else is unknown.
    enum Known: Equatable { case yes, no, unknown, null }

    static func indicators(_ ruleset: Ruleset, versions: [String: String]) -> [String: Completeness] {
        let fields = Dictionary(ruleset.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let registers = Dictionary(ruleset.registers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func missing(_ c: String) -> Bool { versions[c] == "missing" }

        var fieldClusters: [String: Set<String>] = [:]
        /// Clusters a field reads, with those of the fields its window depends on.
        func clusters(ofField name: String, _ seen: Set<String> = []) -> Set<String> {
            if let m = fieldClusters[name] { return m }
            guard let f = fields[name], !seen.contains(name) else { return [] }
            var all = Set(f.clusters)
            for d in f.dependencies { all.formUnion(clusters(ofField: d, seen.union([name]))) }
            fieldClusters[name] = all
            return all
        }
        /// A field whose own clusters are all missing is always null.
        func dead(_ field: String) -> Bool { fields[field].map { !$0.clusters.isEmpty && $0.clusters.allSatisfy(missing) } ?? false }

        var registerMemo: [String: (all: Set<String>, starved: Bool)] = [:]
        func register(_ id: String, _ seen: Set<String> = []) -> (all: Set<String>, starved: Bool) {
            if let m = registerMemo[id] { return m }
            guard let chain = registers[id], !seen.contains(id) else { return ([], false) }
            let all = chain.rules.reduce(into: Set<String>()) { $0.formUnion(inputs($1.condition, seen.union([id]))) }
            let out = (all, starved(chain.rules, seen.union([id])))
            registerMemo[id] = out
            return out
        }
        func inputs(_ e: Expression, _ seen: Set<String> = []) -> Set<String> {
            var all = e.clusters
            for name in e.references { all.formUnion(fields[name] != nil ? clusters(ofField: name) : register(name, seen).all) }
            return all
        }
        func value(_ e: Expression, _ seen: Set<String>) -> Known {
            switch e {
            case .boolean(let b): return b ? .yes : .no
            case .null: return .null
            case .number, .date, .string: return .unknown
            case .reference(let name, _):
                if dead(name) { return .null }
                if registers[name] != nil, register(name, seen).starved { return .no }
                return .unknown
            case .shift(let inner, _, _): return value(inner, seen) == .null ? .null : .unknown
            case .isNull(let inner, let negated):
                return value(inner, seen) == .null ? (negated ? .no : .yes) : .unknown
            case .compare(let a, _, let b):
                return value(a, seen) == .null || value(b, seen) == .null ? .no : .unknown
            case .inCluster(let inner, let cluster):
                return missing(cluster) || value(inner, seen) == .null ? .no : .unknown
            case .and(let a, let b):
                let (x, y) = (value(a, seen), value(b, seen))
                if x == .no || x == .null || y == .no || y == .null { return .no }
                return x == .yes && y == .yes ? .yes : .unknown
            case .or(let a, let b):
                let (x, y) = (value(a, seen), value(b, seen))
                if x == .yes || y == .yes { return .yes }
                return (x == .no || x == .null) && (y == .no || y == .null) ? .no : .unknown
            case .not(let inner):
                switch value(inner, seen) {
                case .yes: return .no
                case .no, .null: return .yes
                default: return .unknown
                }
            }
        }
        /// No rule of the chain can select anyone: each select branch needs a condition that dead inputs make
        /// impossible (or an earlier rule always decides first).
        func starved(_ rules: [Rule], _ seen: Set<String> = []) -> Bool {
            for rule in rules {
                let v = value(rule.condition, seen)
                let truth: Known = v == .null ? .no : v
                if rule.then == .select && truth != .no { return false }
                if rule.otherwise == .select && truth != .yes { return false }
                // A rule that always decides (rejects everyone) ends the chain.
                if (truth == .yes && rule.then == .reject) || (truth == .no && rule.otherwise == .reject) { return true }
            }
            return true
        }

        var out: [String: Completeness] = [:]
        for ind in ruleset.indicators {
            var used = Set<String>()
            var direction: Completeness.Direction?
            let reg = register(ind.register)
            used.formUnion(reg.all)
            if reg.all.contains(where: missing) { direction = .either }
            for (c, chain) in [ind.denominator, ind.numerator].enumerated() {
                for (k, rule) in chain.rules.enumerated() {
                    let all = inputs(rule.condition)
                    used.formUnion(all)
                    guard all.contains(where: missing) else { continue }
                    let selects = rule.then == .select || rule.otherwise == .select
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
            // The figure cannot be computed when missing lists leave the register, the denominator or the
            // numerator with no way to select anyone (a payment-only indicator has no numerator to starve).
            let computable = !reg.starved && !starved(ind.denominator.rules) && (ind.payment == .protected || !starved(ind.numerator.rules))
            let missingLists = used.filter(missing).sorted()
            // Lists qofd derived itself (`qofd-*.csv`) are stand-ins too until the official cluster is imported.
            let standIns = used.filter { versions[$0]?.hasPrefix("stand-in") == true || versions[$0]?.hasPrefix("qofd-") == true }.sorted()
            out[ind.id] = Completeness(
                status: !missingLists.isEmpty ? .missing : !standIns.isEmpty ? .standIn : .complete,
                computable: missingLists.isEmpty || computable, missing: missingLists, standIns: standIns,
                direction: missingLists.isEmpty ? nil : direction ?? .either)
        }
        return out
    }
}
