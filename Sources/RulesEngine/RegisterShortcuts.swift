/// What a register decides for a patient with none of the records its rules look at. Most patients
/// have no hypertension, diabetes or asthma record, and every such register rejects them at its first
/// rule; knowing that from the rules themselves, the engine decides those registers from the fields a
/// patient does have, without walking their chains.
///
/// Worked out once per compiled ruleset by walking each chain with the fields it reads taken as
/// missing: a condition on a missing field (`X is null`, a date or value test, `X in CLUSTER`) has a
/// known answer, and so has another register with a shortcut (its decision, for a patient with none
/// of its records: SMOK_REG is "on any of nine disease registers"); anything else (an age, a sex) is
/// unknown and leaves the register to be walked for every patient.
struct RegisterShortcuts: Sendable {
    /// Per register: the decision when none of its fields has a record (nil: walk the chain).
    let decision: [Bool?]
    /// Per field: the registers (bit `r`) whose shortcut a record in this field rules out.
    let triggers: [UInt64]

    /// The most registers a shortcut mask can name (one bit each in a `UInt64`); larger rulesets walk every chain.
    static let maxRegisters = 64

    /// `order` lists the registers so that a register comes after those its rules read.
    init(program: Program, fieldCount: Int, registerRules: [[CompiledRuleset.ResolvedRule]], order: [Int], enabled: Bool = true) {
        var decision = [Bool?](repeating: nil, count: registerRules.count)
        var triggers = [UInt64](repeating: 0, count: fieldCount)
        guard enabled, registerRules.count <= Self.maxRegisters else {
            self.decision = decision
            self.triggers = triggers
            return
        }
        let nodes = program.nodes
        // Registers whose decision a record in each field rules out (filled in register order).
        var fieldsOf = [Set<Int>](repeating: [], count: registerRules.count)
        // Three-valued: true, false or unknown (nil), with every field taken as missing.
        func known(_ root: Int32, fields: inout Set<Int>) -> Bool? {
            switch nodes[Int(root)] {
            case .constant(.bool(let b)): return b
            case .register(let r):
                guard let d = decision[Int(r)] else { return nil }
                fields.formUnion(fieldsOf[Int(r)])
                return d
            case .fieldIsNull(let f, let negated):
                fields.insert(Int(f))
                return !negated
            case .fieldDateCompare(let f, _, _), .fieldValueCompare(let f, _, _, _), .fieldInCluster(let f, _):
                fields.insert(Int(f))
                return false
            case .and(let a, let b):
                let x = known(a, fields: &fields), y = known(b, fields: &fields)
                if x == false || y == false { return false }
                return x == true && y == true ? true : nil
            case .or(let a, let b):
                let x = known(a, fields: &fields), y = known(b, fields: &fields)
                if x == true || y == true { return true }
                return x == false && y == false ? false : nil
            case .not(let inner): return known(inner, fields: &fields).map { !$0 }
            default: return nil
            }
        }
        for r in order {
            let chain = registerRules[r]
            var fields = Set<Int>()
            var result: Bool?
            walk: for rule in chain {
                guard let holds = known(rule.root, fields: &fields) else { break walk }
                switch holds ? rule.then : rule.otherwise {
                case .select: result = true; break walk
                case .reject: result = false; break walk
                case .next: continue
                }
            }
            guard let result else { continue }
            decision[r] = result
            fieldsOf[r] = fields
            for f in fields { triggers[f] |= 1 << UInt64(r) }
        }
        self.decision = decision
        self.triggers = triggers
    }
}
