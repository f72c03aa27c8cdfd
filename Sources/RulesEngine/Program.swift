import Clinical

/// A resolved expression flattened into an array of nodes that refer to each other by index, so
/// evaluating it for millions of patients touches no reference counts.
enum ProgramNode: Sendable, Hashable {
    case constant(Value)
    case field(Int32, Resolved.Member)
    case register(Int32)
    case age, sex, birth, registrationStart, ethnicity
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
    /// `PAT_DOB + 8 months <= PPED` as `PAT_DOB <= 2025-07-31`: a shifted birth date against a fixed day,
    /// turned into the birth date against a threshold (`gt` or `le`), so no calendar arithmetic per patient.
    case birthCompare(Expression.Comparison, Day)
    /// `PAT_SEX = 'F'` (or `!=`).
    case sexIs(UInt64, negated: Bool)
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
        case .ethnicity: node = .ethnicity
        case .shift(let inner, let amount, let unit): node = .shift(add(inner), amount: Int32(amount), unit: unit)
        case .compare(.field(let f, .date), let op, .constant(.day(let d))): node = .fieldDateCompare(field: Int32(f), op, d)
        case .compare(.age, let op, .constant(.number(let n))): node = .ageCompare(op, n)
        case .compare(.field(let f, .value), let op, .constant(.number(let n))): node = .fieldValueCompare(field: Int32(f), second: false, op, n)
        case .compare(.field(let f, .value2), let op, .constant(.number(let n))): node = .fieldValueCompare(field: Int32(f), second: true, op, n)
        case .compare(.shift(.birth, let amount, let unit), let op, .constant(.day(let c))) where op != .eq && op != .ne:
            node = Self.birthThreshold(amount: amount, unit: unit, op, c).map { .birthCompare($0.op, $0.day) }
                ?? .compare(add(.shift(.birth, amount: amount, unit: unit)), op, add(.constant(.day(c))))
        case .compare(.sex, let op, .constant(.symbol(let x))) where op == .eq || op == .ne: node = .sexIs(x, negated: op == .ne)
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

    /// Adds every field the expression at `root` reads to `fields`.
    func fields(readBy root: Int32, into fields: inout Set<Int>) {
        switch nodes[Int(root)] {
        case .field(let f, _), .fieldInCluster(let f, _), .fieldIsNull(let f, _), .fieldDateCompare(let f, _, _),
            .fieldValueCompare(let f, _, _, _):
            fields.insert(Int(f))
        case .shift(let inner, _, _), .isNull(let inner, _), .valueInCluster(let inner, _), .not(let inner):
            self.fields(readBy: inner, into: &fields)
        case .compare(let a, _, let b), .and(let a, let b), .or(let a, let b):
            self.fields(readBy: a, into: &fields)
            self.fields(readBy: b, into: &fields)
        case .constant, .register, .age, .sex, .birth, .registrationStart, .ethnicity, .ageCompare, .birthCompare, .sexIs:
            break
        }
    }

    /// `birth + amount op c` as `birth op' threshold`. Shifting by days, months or years never puts a later
    /// birth date before an earlier one's shift (month ends clamp), so the birth dates that pass form a run
    /// ending or starting at a threshold, found from `c - amount` by stepping a day at a time. Nil outside
    /// the dates the calendar handles.
    static func birthThreshold(amount: Int, unit: Expression.DateUnit, _ op: Expression.Comparison, _ c: Day)
        -> (op: Expression.Comparison, day: Day)?
    {
        guard (1800...9000).contains(c.year), abs(amount) < 12_000 else { return nil }
        // The latest birth date whose shift is at most c (for > and <=) or below c (for >= and <).
        let strict = op == .ge || op == .lt
        func passes(_ d: Day) -> Bool {
            let shifted = CompiledRuleset.shift(d, amount, unit)
            return strict ? shifted < c : shifted <= c
        }
        var t = CompiledRuleset.shift(c, -amount, unit)
        while !passes(t) { t = t.adding(days: -1) }
        while passes(t.adding(days: 1)) { t = t.adding(days: 1) }
        // birth + amount > c  ⇔ birth > t; <= ⇔ birth <= t; >= c ⇔ birth > t (strict t); < c ⇔ birth <= t.
        return (op == .gt || op == .ge ? .gt : .le, t)
    }
}
