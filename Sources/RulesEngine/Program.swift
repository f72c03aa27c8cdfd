import Clinical

/// A resolved expression flattened into an array of nodes that refer to each other by index, so
/// evaluating it for millions of patients touches no reference counts.
enum ProgramNode: Sendable, Hashable {
    case constant(Value)
    case field(Int32, Resolved.Member)
    case register(Int32)
    case age, sex, birth, registrationStart
    case shift(Int32, amount: Int32, unit: Expression.DateUnit)
    case compare(Int32, Expression.Comparison, Int32)
    case isNull(Int32, negated: Bool)
    /// `FIELD in CLUSTER`: the field's code is in the cluster.
    case fieldInCluster(field: Int32, cluster: Int32)
    case valueInCluster(Int32, cluster: Int32)
    case and(Int32, Int32)
    case or(Int32, Int32)
    case not(Int32)
    // The commonest rule shapes, each one node instead of three: `X_DAT is [not] null`,
    // `X_DAT > PPED - 3 months`, `PAT_AGE < 45` and `X_VAL <= 140`.
    case fieldIsNull(field: Int32, negated: Bool)
    case fieldDateCompare(field: Int32, Expression.Comparison, Day)
    case ageCompare(Expression.Comparison, Double)
    /// `BP_VAL <= 140`: a field's value (or second value) against a number.
    case fieldValueCompare(field: Int32, second: Bool, Expression.Comparison, Double)
}

/// Every expression of a ruleset in one node array; each expression is the index of its root.
struct Program: Sendable {
    private(set) var nodes: [ProgramNode] = []
    /// Each distinct node once (`PAT_DOB + 8 months` used by two rules is one node), so a per-patient
    /// memo of a node serves every rule that uses it.
    private var index: [ProgramNode: Int32] = [:]

    /// Appends `e` and returns its root index.
    mutating func add(_ e: Resolved) -> Int32 {
        let node: ProgramNode
        switch e {
        case .constant(let v): node = .constant(v)
        case .field(let f, let m): node = .field(Int32(f), m)
        case .register(let r): node = .register(Int32(r))
        case .age: node = .age
        case .sex: node = .sex
        case .birth: node = .birth
        case .registrationStart: node = .registrationStart
        case .shift(let inner, let amount, let unit): node = .shift(add(inner), amount: Int32(amount), unit: unit)
        case .compare(.field(let f, .date), let op, .constant(.day(let d))): node = .fieldDateCompare(field: Int32(f), op, d)
        case .compare(.age, let op, .constant(.number(let n))): node = .ageCompare(op, n)
        case .compare(.field(let f, .value), let op, .constant(.number(let n))): node = .fieldValueCompare(field: Int32(f), second: false, op, n)
        case .compare(.field(let f, .value2), let op, .constant(.number(let n))): node = .fieldValueCompare(field: Int32(f), second: true, op, n)
        case .compare(let a, let op, let b): node = .compare(add(a), op, add(b))
        case .isNull(.field(let f, .date), let negated): node = .fieldIsNull(field: Int32(f), negated: negated)
        case .isNull(let inner, let negated): node = .isNull(add(inner), negated: negated)
        case .inCluster(let inner, let cluster):
            if case .field(let f, _) = inner { node = .fieldInCluster(field: Int32(f), cluster: Int32(cluster)) } else {
                node = .valueInCluster(add(inner), cluster: Int32(cluster))
            }
        case .and(let a, let b): node = .and(add(a), add(b))
        case .or(let a, let b): node = .or(add(a), add(b))
        case .not(let inner): node = .not(add(inner))
        }
        if let existing = index[node] { return existing }
        nodes.append(node)
        index[node] = Int32(nodes.count - 1)
        return Int32(nodes.count - 1)
    }
}
