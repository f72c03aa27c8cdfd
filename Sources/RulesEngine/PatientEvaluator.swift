import Clinical

/// One field's value for one patient: the date of the record chosen (or none), its values and
/// code, and a count for `count` fields.
struct FieldValue: Sendable {
    var date: Day = .distantPast
    var value: Float = .nan
    var value2: Float = .nan
    var code: Int32 = -1
    var count: Int32 = 0

    var isNull: Bool { date == .distantPast }
}

/// Evaluates a compiled ruleset against one practice's population: maps the population's codes to
/// the fields and clusters that want them (once), then scans each patient's history once per
/// dependency level and walks the chains.
struct PatientEvaluator {
    let compiled: CompiledRuleset
    let population: Population
    /// Per level, per code: the fields of that level whose clusters contain the code.
    private let eventFields: [[[Int32]]]
    private let medicationFields: [[[Int32]]]
    /// Per cluster (used by `in` tests), per code: membership.
    private let clusterMembership: [[Bool]]

    init(compiled: CompiledRuleset, population: Population) {
        self.compiled = compiled
        self.population = population
        let codes = population.codes
        let n = codes.count
        var events = [[[Int32]]](repeating: [[Int32]](repeating: [], count: n), count: max(1, compiled.levels))
        var meds = events
        for (f, clusters) in compiled.fieldClusters.enumerated() {
            let level = compiled.fieldLevel[f]
            let medication = compiled.ruleset.fields[f].medications
            for c in 0..<n {
                let concept = codes[Int32(c)]
                if clusters.contains(where: { compiled.clusterConcepts[$0].contains(concept) }) {
                    if medication { meds[level][c].append(Int32(f)) } else { events[level][c].append(Int32(f)) }
                }
            }
        }
        eventFields = events
        medicationFields = meds
        clusterMembership = compiled.clusterConcepts.map { set in (0..<n).map { set.contains(codes[Int32($0)]) } }
    }

    /// The patients counted: registered on the achievement date and alive.
    func isInPopulation(_ p: Int) -> Bool { population.isRegisteredAndAlive(p, on: compiled.achievementDate) }

    /// Computes every field for patient `p`.
    func fields(_ p: Int, into values: inout [FieldValue]) {
        let fieldCount = compiled.ruleset.fields.count
        if values.count != fieldCount { values = [FieldValue](repeating: FieldValue(), count: fieldCount) } else {
            for i in 0..<fieldCount { values[i] = FieldValue() }
        }
        let achv = compiled.achievementDate
        var lower = [Day](repeating: .distantPast, count: fieldCount)
        var upper = [Day](repeating: achv, count: fieldCount)
        var open = [Bool](repeating: true, count: fieldCount)
        for level in 0..<compiled.levels {
            // Windows of this level's fields (they may depend on fields of earlier levels).
            for f in 0..<fieldCount where compiled.fieldLevel[f] == level {
                let w = compiled.windows[f]
                func bound(_ e: Resolved?) -> Day?? {
                    guard let e else { return .some(nil) }
                    guard case .day(let d) = evaluate(e, p, values, registers: []) else { return nil }
                    return .some(d)
                }
                guard let after = bound(w.after), let onOrAfter = bound(w.onOrAfter), let before = bound(w.before),
                    let onOrBefore = bound(w.onOrBefore)
                else { open[f] = false; continue }
                if let d = after { lower[f] = max(lower[f], d.adding(days: 1)) }
                if let d = onOrAfter { lower[f] = max(lower[f], d) }
                if let d = before { upper[f] = min(upper[f], d.adding(days: -1)) }
                if let d = onOrBefore { upper[f] = min(upper[f], d) }
            }
            scan(population.eventRange(p), level: level, table: eventFields, lower: lower, upper: upper, open: open, &values) {
                let e = population.events[$0]
                return (e.date, e.code, e.value, e.value2)
            }
            scan(population.medicationRange(p), level: level, table: medicationFields, lower: lower, upper: upper, open: open, &values) {
                let m = population.medications[$0]
                return (m.date, m.code, m.quantity, .nan)
            }
        }
    }

    @inline(__always)
    private func scan(
        _ range: Range<Int>, level: Int, table: [[[Int32]]], lower: [Day], upper: [Day], open: [Bool], _ values: inout [FieldValue],
        record: (Int) -> (Day, Int32, Float, Float)
    ) {
        let byCode = table[level]
        for i in range {
            let (date, code, v1, v2) = record(i)
            let interested = byCode[Int(code)]
            if interested.isEmpty { continue }
            for f32 in interested {
                let f = Int(f32)
                guard open[f], date >= lower[f], date <= upper[f] else { continue }
                let def = compiled.ruleset.fields[f]
                var cur = values[f]
                switch def.kind {
                case .count:
                    cur.count += 1
                    if cur.isNull || date > cur.date { cur.date = date }
                case .latest, .earliest:
                    let better = cur.isNull || (def.kind == .latest ? date > cur.date : date < cur.date)
                    if better {
                        cur = FieldValue(date: date, value: v1, value2: v2, code: code, count: cur.count + 1)
                    } else if date == cur.date {
                        // Several records on the chosen day: keep the lowest (or highest) values; the code of the
                        // smallest concept id, so the choice does not depend on reading order.
                        let lowest = def.sameDay == .lowest
                        if !v1.isNaN, cur.value.isNaN || (lowest ? v1 < cur.value : v1 > cur.value) { cur.value = v1 }
                        if !v2.isNaN, cur.value2.isNaN || (lowest ? v2 < cur.value2 : v2 > cur.value2) { cur.value2 = v2 }
                        if population.codes[code] < population.codes[cur.code] { cur.code = code }
                        cur.count += 1
                    } else {
                        cur.count += 1
                    }
                }
                values[f] = cur
            }
        }
    }

    /// The start of the registration that covers the achievement date.
    func registrationStart(_ p: Int) -> Day? {
        for r in population.registrationRange(p) where population.registrations[r].contains(compiled.achievementDate) {
            return population.registrations[r].start
        }
        return nil
    }

    func evaluate(_ e: Resolved, _ p: Int, _ values: [FieldValue], registers: [Bool]) -> Value {
        switch e {
        case .constant(let v): return v
        case .field(let f, let member):
            let v = values[f]
            switch member {
            case .count: return .number(Double(v.count))
            case .date: return v.isNull ? .null : .day(v.date)
            case .value: return v.isNull || v.value.isNaN ? .null : .number(Double(v.value))
            case .value2: return v.isNull || v.value2.isNaN ? .null : .number(Double(v.value2))
            case .code: return v.isNull ? .null : .number(Double(population.codes[v.code]))
            }
        case .register(let r): return r < registers.count ? .bool(registers[r]) : .null
        case .age: return .number(Double(population.birthDates[p].age(on: compiled.ageOn)))
        case .sex: return .text(population.sexes[p].letter)
        case .birth: return .day(population.birthDates[p])
        case .registrationStart: return registrationStart(p).map { .day($0) } ?? .null
        case .shift(let inner, let amount, let unit):
            guard case .day(let d) = evaluate(inner, p, values, registers: registers) else { return .null }
            return .day(CompiledRuleset.shift(d, amount, unit))
        case .compare(let a, let op, let b):
            return .bool(compare(evaluate(a, p, values, registers: registers), op, evaluate(b, p, values, registers: registers)))
        case .isNull(let inner, let negated):
            let isNull = evaluate(inner, p, values, registers: registers) == .null
            return .bool(negated ? !isNull : isNull)
        case .inCluster(let inner, let cluster):
            if case .field(let f, _) = inner {
                let v = values[f]
                return .bool(!v.isNull && v.code >= 0 && clusterMembership[cluster][Int(v.code)])
            }
            guard case .number(let n) = evaluate(inner, p, values, registers: registers) else { return .bool(false) }
            return .bool(compiled.clusterConcepts[cluster].contains(UInt64(n)))
        case .and(let a, let b):
            return .bool(evaluate(a, p, values, registers: registers).truthy && evaluate(b, p, values, registers: registers).truthy)
        case .or(let a, let b):
            return .bool(evaluate(a, p, values, registers: registers).truthy || evaluate(b, p, values, registers: registers).truthy)
        case .not(let inner): return .bool(!evaluate(inner, p, values, registers: registers).truthy)
        }
    }

    /// Comparisons with null are false (a missing reading is never "at or below target").
    private func compare(_ a: Value, _ op: Expression.Comparison, _ b: Value) -> Bool {
        func order<T: Comparable>(_ x: T, _ y: T) -> Bool {
            switch op {
            case .lt: return x < y
            case .le: return x <= y
            case .gt: return x > y
            case .ge: return x >= y
            case .eq: return x == y
            case .ne: return x != y
            }
        }
        switch (a, b) {
        case (.number(let x), .number(let y)): return order(x, y)
        case (.day(let x), .day(let y)): return order(x, y)
        case (.text(let x), .text(let y)): return order(x, y)
        case (.bool(let x), .bool(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
        default: return false
        }
    }

    /// Walks a chain: the first rule whose action is Select or Reject decides.
    /// - Returns: the action and the index of the deciding rule.
    func run(_ rules: [CompiledRuleset.ResolvedRule], _ p: Int, _ values: [FieldValue], registers: [Bool]) -> (RuleAction, Int) {
        for (i, rule) in rules.enumerated() {
            let action = evaluate(rule.condition, p, values, registers: registers).truthy ? rule.then : rule.otherwise
            if action != .next { return (action, i) }
        }
        return (.reject, rules.count - 1)  // unreachable for validated chains
    }
}
