import Clinical
import Clusters

/// A value while a rule is evaluated: null, a number, a calendar day, a boolean or text.
enum Value: Sendable, Hashable {
    /// Text is only ever compared for equality (`PAT_SEX = 'F'`), so it travels as a symbol.
    case null, number(Double), day(Day), bool(Bool), symbol(UInt64)

    var truthy: Bool {
        switch self {
        case .bool(let b): return b
        case .null: return false
        case .number(let n): return n != 0
        case .day, .symbol: return true
        }
    }

    /// A deterministic symbol for a text (FNV-1a).
    static func symbol(_ text: String) -> Value { .symbol(FNV1a.hash(text)) }
}

/// An expression with every name resolved to a slot, and constants folded (`PPED - 12 months`
/// becomes a day once per run, not once per patient).
indirect enum Resolved: Sendable {
    enum Member: Sendable, Hashable { case date, value, value2, code, count }
    case constant(Value)
    case field(Int, Member)
    case register(Int)
    case age, sex, birth, registrationStart, ethnicity
    case shift(Resolved, amount: Int, unit: Expression.DateUnit)
    case compare(Resolved, Expression.Comparison, Resolved)
    case isNull(Resolved, negated: Bool)
    case inCluster(Resolved, cluster: Int)
    case and(Resolved, Resolved)
    case or(Resolved, Resolved)
    case not(Resolved)
}

/// A ruleset bound to an achievement date and a cluster library: key dates fixed, names resolved,
/// clusters turned into concept sets, fields ordered by dependency level.
public struct CompiledRuleset: Sendable {
    public let ruleset: Ruleset
    public let achievementDate: Day
    public let ageOn: Day
    /// Concepts per cluster name used anywhere in the ruleset.
    let clusterConcepts: [Set<UInt64>]
    let clusterNames: [String]
    /// Per field: cluster indexes, dependency level, window expressions.
    let fieldClusters: [[Int]]
    let fieldLevel: [Int]
    let levels: Int
    let windows: [(after: Resolved?, onOrAfter: Resolved?, before: Resolved?, onOrBefore: Resolved?)]
    let registerOrder: [Int]
    let registerRules: [[ResolvedRule]]
    let indicatorRules: [(denominator: [ResolvedRule], numerator: [ResolvedRule], register: Int)]
    /// Which library version of each cluster was used: name → fingerprint (or "missing").
    public let clusterVersions: [String: String]
    /// Each indicator's code-list completeness under this library.
    public let completeness: [String: Completeness]

    struct ResolvedRule: Sendable {
        let root: Int32
        let then: RuleAction
        let otherwise: RuleAction
    }

    /// Every condition and window as one flat node array.
    let program: Program
    /// Window roots per field in the program.
    let windowRoots: [(after: Int32?, onOrAfter: Int32?, before: Int32?, onOrBefore: Int32?)]
    /// Bounds of fields whose windows are constant (nil when they depend on another field).
    let constantBounds: [(lower: Day, upper: Day)?]
    /// Every concept a cluster of the ruleset holds, by dense id (found by one multiply and a probe: each
    /// practice's codes are matched against it once per evaluation), with the fields that want it and the
    /// clusters it is in.
    let conceptIndex: CodeTable
    let conceptFields: [[(field: Int32, level: Int32, medication: Bool)]]
    let conceptClusters: [[Int32]]
    let fieldKinds: [FieldDefinition.Kind]
    let fieldSameDayLowest: [Bool]
    /// Which patients need each field (every patient, or those on given registers).
    let gates: FieldGates
    /// Registers decided without their chains for patients with none of their records.
    let shortcuts: RegisterShortcuts

    /// A short fingerprint of every cluster used, for the run record.
    public var clusterVersion: String {
        var h = FNV1a()
        for (name, fp) in clusterVersions.sorted(by: { $0.key < $1.key }) { h.combine((name + "=" + fp + ";").utf8) }
        return String(h.value, radix: 16)
    }

    public init(_ ruleset: Ruleset, achievementDate: Day? = nil, library: ClusterLibrary) throws {
        try self.init(ruleset, achievementDate: achievementDate, library: library, shortcuts: true)
    }

    /// `shortcuts: false` works out every field for every patient and walks every register chain (the
    /// plain evaluation the gated one is checked against).
    init(_ ruleset: Ruleset, achievementDate: Day? = nil, library: ClusterLibrary, shortcuts enabled: Bool) throws {
        self.ruleset = ruleset
        let achv = achievementDate ?? ruleset.payPeriodEnd
        self.achievementDate = achv
        switch ruleset.ageOn {
        case .achievementDate: ageOn = achv
        case .fixed(let d): ageOn = d
        }
        // Clusters: every name used by a field or an `in` test.
        var names: [String] = []
        var index: [String: Int] = [:]
        func clusterIndex(_ name: String) -> Int {
            if let i = index[name] { return i }
            index[name] = names.count
            names.append(name)
            return names.count - 1
        }
        let fieldIndex = Dictionary(uniqueKeysWithValues: ruleset.fields.enumerated().map { ($1.name, $0) })
        let registerIndex = Dictionary(uniqueKeysWithValues: ruleset.registers.enumerated().map { ($1.id, $0) })
        let constants: [String: Value] = ruleset.keyDates.mapValues { Value.day($0) }.merging([
            "PPSD": .day(ruleset.payPeriodStart), "PPED": .day(ruleset.payPeriodEnd), "ACHV_DAT": .day(achv),
        ]) { _, builtin in builtin }
        func resolve(_ e: Expression) -> Resolved {
            switch e {
            case .number(let v): return .constant(.number(v))
            case .date(let d): return .constant(.day(d))
            case .string(let s): return .constant(Value.symbol(s))
            case .null: return .constant(.null)
            case .boolean(let b): return .constant(.bool(b))
            case .reference(let name, let member):
                if let c = constants[name] { return .constant(c) }
                if let f = fieldIndex[name] {
                    let kind = ruleset.fields[f].kind
                    let m: Resolved.Member = switch member {
                    case "value": .value
                    case "value2": .value2
                    case "code": .code
                    default: kind == .count ? .count : .date
                    }
                    return .field(f, m)
                }
                if let r = registerIndex[name] { return .register(r) }
                switch name {
                case "PAT_AGE": return .age
                case "PAT_SEX": return .sex
                case "PAT_DOB": return .birth
                case "PAT_ETHNICITY": return .ethnicity
                default: return .registrationStart
                }
            case .shift(let inner, let amount, let unit):
                let r = resolve(inner)
                if case .constant(.day(let d)) = r { return .constant(.day(Self.shift(d, amount, unit))) }
                return .shift(r, amount: amount, unit: unit)
            case .compare(let a, let op, let b): return .compare(resolve(a), op, resolve(b))
            case .isNull(let inner, let negated): return .isNull(resolve(inner), negated: negated)
            case .inCluster(let inner, let cluster):
                let r = resolve(inner)
                // `FIELD in CLUSTER` tests the field's code.
                if case .field(let f, .date) = r { return .inCluster(.field(f, .code), cluster: clusterIndex(cluster)) }
                return .inCluster(r, cluster: clusterIndex(cluster))
            case .and(let a, let b): return .and(resolve(a), resolve(b))
            case .or(let a, let b): return .or(resolve(a), resolve(b))
            case .not(let inner): return .not(resolve(inner))
            }
        }
        fieldClusters = ruleset.fields.map { $0.clusters.map(clusterIndex) }
        windows = ruleset.fields.map { f in
            (f.after.map(resolve), f.onOrAfter.map(resolve), f.before.map(resolve), f.onOrBefore.map(resolve))
        }
        // Dependency levels of fields (validated acyclic).
        var level = [Int](repeating: -1, count: ruleset.fields.count)
        func levelOf(_ i: Int) -> Int {
            if level[i] >= 0 { return level[i] }
            let deps = ruleset.fields[i].dependencies.compactMap { fieldIndex[$0] }
            level[i] = deps.isEmpty ? 0 : deps.map(levelOf).max()! + 1
            return level[i]
        }
        for i in ruleset.fields.indices { _ = levelOf(i) }
        fieldLevel = level
        levels = (level.max() ?? -1) + 1

        var program = Program()
        func rules(_ chain: Chain) -> [ResolvedRule] {
            chain.rules.map {
                let r = resolve($0.condition)
                return ResolvedRule(root: program.add(r), then: $0.then, otherwise: $0.otherwise)
            }
        }
        registerRules = ruleset.registers.map(rules)
        // Registers in dependency order.
        var order: [Int] = []
        var placed = Set<Int>()
        func place(_ r: Int) {
            guard !placed.contains(r) else { return }
            placed.insert(r)
            let deps = ruleset.registers[r].rules.flatMap { $0.condition.references }.compactMap { registerIndex[$0] }
            for d in deps where d != r { place(d) }
            order.append(r)
        }
        for r in ruleset.registers.indices { place(r) }
        registerOrder = order
        indicatorRules = ruleset.indicators.map { (rules($0.denominator), rules($0.numerator), registerIndex[$0.register]!) }

        var concepts: [Set<UInt64>] = []
        var versions: [String: String] = [:]
        for name in names {
            let ref = ruleset.clusters[name]
            if let list = library[name] {
                concepts.append(list.concepts)
                versions[name] = "\(list.source)#\(list.fingerprint)"
            } else if let standIn = ref?.standIn, let list = library[standIn] {
                concepts.append(list.concepts)
                versions[name] = "stand-in \(list.source)#\(list.fingerprint)"
            } else {
                concepts.append([])
                versions[name] = "missing"
            }
        }
        clusterConcepts = concepts
        clusterNames = names
        clusterVersions = versions
        completeness = CompletenessAnalysis.indicators(ruleset, versions: versions)

        windowRoots = windows.map { w in (w.after.map { program.add($0) }, w.onOrAfter.map { program.add($0) },
                                          w.before.map { program.add($0) }, w.onOrBefore.map { program.add($0) }) }
        constantBounds = windows.map { w in
            var lower = Day.distantPast
            var upper = achv
            for (e, kind) in [(w.after, 0), (w.onOrAfter, 1), (w.before, 2), (w.onOrBefore, 3)] {
                guard let e else { continue }
                guard case .constant(.day(let d)) = e else { return nil }
                switch kind {
                case 0: lower = max(lower, d.adding(days: 1))
                case 1: lower = max(lower, d)
                case 2: upper = min(upper, d.adding(days: -1))
                default: upper = min(upper, d)
                }
            }
            return (lower, upper)
        }
        self.program = program
        gates = FieldGates(program: program, fieldCount: ruleset.fields.count, fieldLevel: level, windowRoots: windowRoots,
                           registerRules: registerRules, indicatorRules: indicatorRules, enabled: enabled)
        shortcuts = RegisterShortcuts(
            program: program, fieldCount: ruleset.fields.count, registerRules: registerRules, order: registerOrder, enabled: enabled)
        var conceptIDs = CodeTable()
        var byConcept: [[(field: Int32, level: Int32, medication: Bool)]] = []
        var clustersByConcept: [[Int32]] = []
        func id(_ concept: UInt64) -> Int {
            let i = Int(conceptIDs.intern(concept))
            if i == byConcept.count {
                byConcept.append([])
                clustersByConcept.append([])
            }
            return i
        }
        for (f, clusters) in fieldClusters.enumerated() {
            var seen = Set<UInt64>()
            for c in clusters {
                for concept in concepts[c] where seen.insert(concept).inserted {
                    byConcept[id(concept)].append((Int32(f), Int32(level[f]), ruleset.fields[f].medications))
                }
            }
        }
        for (c, set) in concepts.enumerated() { for concept in set { clustersByConcept[id(concept)].append(Int32(c)) } }
        conceptIndex = conceptIDs
        conceptFields = byConcept
        conceptClusters = clustersByConcept
        fieldKinds = ruleset.fields.map(\.kind)
        fieldSameDayLowest = ruleset.fields.map { $0.sameDay == .lowest }
    }

    static func shift(_ d: Day, _ amount: Int, _ unit: Expression.DateUnit) -> Day {
        switch unit {
        case .days: return d.adding(days: amount)
        case .months: return d.adding(months: amount)
        case .years: return d.adding(years: amount)
        }
    }

    /// Clusters the rules use that the library does not have (evaluated as empty).
    /// The concepts a cluster name stands for in this ruleset (its list, its stand-in, or none when
    /// missing), as the engine matches them; nil for a name the ruleset does not use.
    public func concepts(ofCluster name: String) -> Set<UInt64>? {
        clusterNames.firstIndex(of: name).map { clusterConcepts[$0] }
    }

    public var missingClusters: [String] { clusterVersions.filter { $0.value == "missing" }.keys.sorted() }
}
