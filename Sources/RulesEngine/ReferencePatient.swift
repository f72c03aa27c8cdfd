import Clinical

/// One patient as the reference evaluator sees them: expressions evaluated straight from the rule file's
/// trees, each field worked out from the patient's records the first time a rule asks for it (and kept for
/// the rest of this patient), each register decided by walking its chain.
final class ReferencePatient {
    /// A value while a rule is evaluated. Text stays text (the engine hashes it).
    enum Value: Equatable {
        case null, number(Double), day(Day), bool(Bool), text(String)

        var truthy: Bool {
            switch self {
            case .bool(let b): return b
            case .null: return false
            case .number(let n): return n != 0
            case .day, .text: return true
            }
        }
    }

    /// A field's answer for this patient: the record chosen (nil when none is in the window or the window
    /// is closed) and how many records fell in the window.
    struct FieldAnswer {
        var date: Day
        var value: Float
        var value2: Float
        var concept: UInt64
        var count: Int
    }

    let evaluator: ReferenceEvaluator
    let population: Population
    let row: Int
    private var fields: [Int: FieldAnswer?] = [:]
    private var registers: [Int: Bool] = [:]

    init(evaluator: ReferenceEvaluator, population: Population, row: Int) {
        self.evaluator = evaluator
        self.population = population
        self.row = row
    }

    func register(_ r: Int) -> Bool {
        if let known = registers[r] { return known }
        let (action, _) = evaluator.walk(evaluator.ruleset.registers[r], self)
        registers[r] = action == .select
        return action == .select
    }

    func field(_ f: Int) -> FieldAnswer? {
        if let known = fields[f] { return known }
        let answer = workOut(f)
        fields[f] = .some(answer)
        return answer
    }

    /// The records of the field's clusters in its window, and the one its kind chooses.
    private func workOut(_ f: Int) -> FieldAnswer? {
        let definition = evaluator.ruleset.fields[f]
        var lower = Day.distantPast
        var upper = evaluator.achievementDate
        // Each bound must be a day; a bound on a missing date closes the window.
        let bounds: [(Expression?, Int, Bool)] = [(definition.after, 1, true), (definition.onOrAfter, 0, true),
                                                  (definition.before, -1, false), (definition.onOrBefore, 0, false)]
        for (expression, step, isLower) in bounds {
            guard let expression else { continue }
            guard case .day(let d) = value(of: expression) else { return nil }
            if isLower { lower = max(lower, d.adding(days: step)) } else { upper = min(upper, d.adding(days: step)) }
        }
        let wanted = definition.clusters.reduce(into: Set<UInt64>()) { $0.formUnion(evaluator.clusters[$1] ?? []) }
        var found: [(date: Day, value: Float, value2: Float, concept: UInt64)] = []
        if definition.medications {
            for i in population.medicationRange(row) {
                let m = population.medications[i]
                found.append((m.date, m.quantity, .nan, population.codes[m.code]))
            }
        } else {
            for i in population.eventRange(row) {
                let e = population.events[i]
                found.append((e.date, e.value, e.value2, population.codes[e.code]))
            }
        }
        found = found.filter { wanted.contains($0.concept) && $0.date >= lower && $0.date <= upper }
        guard let first = found.first else { return nil }
        if definition.kind == .count {
            return FieldAnswer(date: found.map(\.date).max()!, value: .nan, value2: .nan, concept: first.concept, count: found.count)
        }
        let day = definition.kind == .latest ? found.map(\.date).max()! : found.map(\.date).min()!
        let onDay = found.filter { $0.date == day }
        // Several records on the chosen day: a reading with two values (a BP) wins over lone values; among those
        // that remain, the lowest (or highest) of each value and the smallest concept id.
        let pairs = onDay.filter { !$0.value2.isNaN }
        let chosen = pairs.isEmpty ? onDay : pairs
        let lowest = definition.sameDay == .lowest
        func best(_ values: [Float]) -> Float {
            let present = values.filter { !$0.isNaN }
            guard let m = lowest ? present.min() : present.max() else { return .nan }
            return m
        }
        return FieldAnswer(date: day, value: best(chosen.map(\.value)), value2: pairs.isEmpty ? .nan : best(pairs.map(\.value2)),
                           concept: chosen.map(\.concept).min()!, count: found.count)
    }

    /// The registration that covers the achievement date: its start.
    private var registrationStart: Day? {
        population.registrationRange(row).map { population.registrations[$0] }.first { $0.contains(evaluator.achievementDate) }?.start
    }

    func value(of e: Expression) -> Value {
        switch e {
        case .number(let v): return .number(v)
        case .date(let d): return .day(d)
        case .string(let s): return .text(s)
        case .null: return .null
        case .boolean(let b): return .bool(b)
        case .reference(let name, let member): return reference(name, member)
        case .shift(let inner, let amount, let unit):
            guard case .day(let d) = value(of: inner) else { return .null }
            switch unit {
            case .days: return .day(d.adding(days: amount))
            case .months: return .day(d.adding(months: amount))
            case .years: return .day(d.adding(years: amount))
            }
        case .compare(let a, let op, let b): return .bool(Self.compare(value(of: a), op, value(of: b)))
        case .isNull(let inner, let negated): return .bool((value(of: inner) == .null) != negated)
        case .inCluster(let inner, let cluster):
            let concepts = evaluator.clusters[cluster] ?? []
            // `FIELD in CLUSTER` (or `FIELD.date in CLUSTER`) asks about the code of the field's record.
            if case .reference(let name, let member) = inner, let f = evaluator.fieldIndex[name],
                member == "date" || (member == nil && evaluator.ruleset.fields[f].kind != .count)
            {
                guard let answer = field(f) else { return .bool(false) }
                return .bool(concepts.contains(answer.concept))
            }
            // Anything else must be a whole, non-negative number to be a concept id.
            guard case .number(let n) = value(of: inner), n >= 0, n < 1.8e19, n == n.rounded() else { return .bool(false) }
            return .bool(concepts.contains(UInt64(n)))
        case .and(let a, let b): return .bool(value(of: a).truthy && value(of: b).truthy)
        case .or(let a, let b): return .bool(value(of: a).truthy || value(of: b).truthy)
        case .not(let inner): return .bool(!value(of: inner).truthy)
        }
    }

    private func reference(_ name: String, _ member: String?) -> Value {
        if let d = evaluator.keyDates[name] { return .day(d) }
        if let f = evaluator.fieldIndex[name] {
            let answer = field(f)
            switch member {
            case "value": return answer.map { $0.value.isNaN ? .null : .number(Double($0.value)) } ?? .null
            case "value2": return answer.map { $0.value2.isNaN ? .null : .number(Double($0.value2)) } ?? .null
            case "code": return answer.map { .number(Double($0.concept)) } ?? .null
            case nil where evaluator.ruleset.fields[f].kind == .count: return .number(Double(answer?.count ?? 0))
            default: return answer.map { .day($0.date) } ?? .null
            }
        }
        if let r = evaluator.registerIndex[name] { return .bool(register(r)) }
        switch name {
        case "PAT_AGE": return .number(Double(population.birthDates[row].age(on: evaluator.ageOn)))
        case "PAT_SEX": return .text(population.sexes[row].letter)
        case "PAT_DOB": return .day(population.birthDates[row])
        case "PAT_ETHNICITY": return population.ethnicity[row] < 0 ? .null : .number(Double(population.codes[population.ethnicity[row]]))
        default: return registrationStart.map { .day($0) } ?? .null  // REG_DAT
        }
    }

    /// Comparisons with null, or between values of different kinds, are false; text and booleans only compare
    /// for equality.
    static func compare(_ a: Value, _ op: Expression.Comparison, _ b: Value) -> Bool {
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
        case (.text(let x), .text(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
        case (.bool(let x), .bool(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
        default: return false
        }
    }
}
