import Clinical

/// Evaluates a compiled ruleset against one practice's population: maps the population's codes to
/// the fields and clusters that want them (once per practice), then scans each patient's history
/// once per dependency level and walks the chains over a flat node array.
struct PatientEvaluator {
    let compiled: CompiledRuleset
    let population: Population
    private let nodes: [ProgramNode]
    /// Per stage, level and source, the fields that want each of the practice's codes; the patient-dependent
    /// windows; each field's gate.
    private let tables: ScanTables
    /// Indicators that read some gated field.
    let gatedIndicators: IndicatorMask
    /// Membership of each code in each cluster (for `in` tests), cluster by cluster: `cluster * codes + code`.
    private let clusterMembership: [Bool]
    private let codeCount: Int
    /// Each cluster's row in `clusterMembership` (-1 for clusters no `FIELD in CLUSTER` test uses: most
    /// clusters only pick records, and a practice's codes need not be matched against them here).
    private let clusterRow: [Int32]
    /// Per field, a field whose missing record closes its window (a bound is that field's date, or a shift
    /// of it), or -1: most patients lack most anchors, and this spares working out their bounds.
    private let windowAnchor: [Int32]
    /// Level-0 fields whose window depends on the patient (`PAT_DOB + 70 years`): worked out lazily.
    private let lazyWindow: [Bool]
    /// The symbol of each sex, by its raw value (a letter), so no hashing per patient.
    private static let sexSymbols: [Value] = {
        var table = [Value](repeating: .null, count: 256)
        for sex in Sex.allCases { table[Int(sex.rawValue)] = Value.symbol(sex.letter) }
        return table
    }()
    /// Whether each field keeps the latest (true) or earliest record; `count` fields keep the latest date.
    private let fieldLatest: [Bool]
    private let fieldCounts: [Bool]
    /// The day ages are taken on, as calendar parts (worked out once, not once per patient).
    private let ageOn: (year: Int, month: Int, day: Int)

    init(compiled: CompiledRuleset, population: Population) {
        // Once per practice, before loops that read the columns without bounds checks. A population is only
        // made by `PopulationBuilder.build()`, which checks the same, so this never fails on any input.
        if let broken = population.brokenInvariant() { preconditionFailure("population of \(population.practice.ods) is malformed: \(broken)") }
        self.compiled = compiled
        self.population = population
        nodes = compiled.program.nodes
        let codes = population.codes
        let n = codes.count
        // Each practice code's concept in the ruleset (-1: in no cluster of it, as most codes are), looked up once.
        let concepts = (0..<n).map { c in compiled.conceptIndex.lookup(codes[Int32(c)]) ?? -1 }
        var rows = [Int32](repeating: -1, count: compiled.clusterConcepts.count)
        var tested: Int32 = 0
        for node in nodes {
            if case .fieldInCluster(_, let cluster) = node, rows[Int(cluster)] < 0 {
                rows[Int(cluster)] = tested
                tested += 1
            }
        }
        var membership = [Bool](repeating: false, count: n * Int(tested))
        if tested > 0 {
            for (c, k) in concepts.enumerated() where k >= 0 {
                for cluster in compiled.conceptClusters[Int(k)] where rows[Int(cluster)] >= 0 { membership[Int(rows[Int(cluster)]) * n + c] = true }
            }
        }
        tables = ScanTables(compiled, concepts: concepts)
        gatedIndicators = compiled.gates.any
        clusterMembership = membership
        clusterRow = rows
        codeCount = n
        ageOn = compiled.ageOn.components
        fieldLatest = compiled.fieldKinds.map { $0 != .earliest }
        fieldCounts = compiled.fieldKinds.map { $0 == .count }
        let nodes = compiled.program.nodes
        func anchor(_ root: Int32?) -> Int32? {
            guard let root else { return nil }
            switch nodes[Int(root)] {
            case .field(let f, .date): return f
            case .shift(let inner, _, _): return anchor(inner)
            default: return nil
            }
        }
        windowAnchor = compiled.windowRoots.map { w in
            [w.after, w.onOrAfter, w.before, w.onOrBefore].lazy.compactMap(anchor).first ?? -1
        }
        lazyWindow = (0..<compiled.fieldKinds.count).map { compiled.fieldLevel[$0] == 0 && compiled.constantBounds[$0] == nil }
    }

    /// The patients counted: registered on the achievement date and alive.
    func isInPopulation(_ p: Int) -> Bool { population.isRegisteredAndAlive(p, on: compiled.achievementDate) }

    /// Calls `body` with the practice's records as plain buffers, for `prepare` and `prepareGated`.
    func withRecords<T>(_ body: (RecordBuffers) throws -> T) rethrows -> T {
        try population.events.withUnsafeBufferPointer { events in
            try population.medications.withUnsafeBufferPointer { medications in
                try body(RecordBuffers(events: events, medications: medications))
            }
        }
    }

    /// Computes the per-patient built-ins and the fields every patient needs (those register rules read)
    /// for patient `p`; `prepareGated` then adds the fields the patient's registers call for.
    func prepare(_ p: Int, _ s: Scratch, _ records: RecordBuffers) {
        for i in 0..<s.touchedCount { s.values[Int(s.touched[i])] = FieldValue() }
        s.touchedCount = 0
        // Age in whole years on the age date, birthday counting (as `Day.age(on:)`).
        let born = population.birthDates[p].components
        s.born = born
        s.age = ageOn.year - born.year - ((ageOn.month, ageOn.day) < (born.month, born.day) ? 1 : 0)
        s.sex = Self.sexSymbols[Int(population.sexes[p].rawValue)]
        s.registrationStart = registrationStart(p).map { .day($0) } ?? .null
        prepare(stage: 0, p, s, records, indicators: .zero)
    }

    /// Computes the gated fields needed by the `indicators` open to a patient (all of them for every gated
    /// field, as an explanation shows them).
    func prepareGated(_ p: Int, _ s: Scratch, _ records: RecordBuffers, indicators: IndicatorMask) {
        guard indicators.intersects(gatedIndicators) else { return }
        prepare(stage: 1, p, s, records, indicators: indicators)
    }

    private func prepare(stage: Int, _ p: Int, _ s: Scratch, _ records: RecordBuffers, indicators: IndicatorMask) {
        let tables = self.tables
        for level in 0..<compiled.levels {
            var open = level == 0
            if level > 0 {
                for k in tables.dynamicRange(stage: stage, level: level) {
                    let f = tables.dynamicField(k)
                    let a = windowAnchor[f]
                    if stage == 1 && !tables.gate[f].intersects(indicators) || a >= 0 && s.values[Int(a)].isNull { s.open[f] = false } else {
                        dynamicWindow(f, p, s)
                    }
                    open = open || s.open[f]
                }
            }
            // Fields above level 0 hang on earlier fields (a window after the diagnosis); when every anchor
            // is missing, there is nothing to look for in this patient's records.
            guard open else { continue }
            scan(records.events, population.eventRange(p), tables.table(stage: stage, level: level, medication: false), indicators, p, s)
            scan(records.medications, population.medicationRange(p), tables.table(stage: stage, level: level, medication: true), indicators, p, s)
        }
    }

    private func dynamicWindow(_ f: Int, _ p: Int, _ s: Scratch) {
        let w = compiled.windowRoots[f]
        var lower = Day.distantPast
        var upper = compiled.achievementDate
        // Each bound is a day, or the field is closed for this patient (an anchor field with no record).
        // No collection is built here: this runs for every patient and every patient-dependent window.
        if let root = w.after {
            guard case .day(let d) = evaluate(root, p, s) else { s.open[f] = false; return }
            lower = max(lower, d.adding(days: 1))
        }
        if let root = w.onOrAfter {
            guard case .day(let d) = evaluate(root, p, s) else { s.open[f] = false; return }
            lower = max(lower, d)
        }
        if let root = w.before {
            guard case .day(let d) = evaluate(root, p, s) else { s.open[f] = false; return }
            upper = min(upper, d.adding(days: -1))
        }
        if let root = w.onOrBefore {
            guard case .day(let d) = evaluate(root, p, s) else { s.open[f] = false; return }
            upper = min(upper, d)
        }
        s.open[f] = true
        s.lower[f] = lower
        s.upper[f] = upper
    }

    /// Offers each of a patient's records to the fields of one table that want its code (gated fields only
    /// when one of their indicators is among the patient's open `indicators`).
    @inline(__always)
    private func scan<R: CodedRecord>(_ records: UnsafeBufferPointer<R>, _ range: Range<Int>, _ t: Int, _ indicators: IndicatorMask, _ p: Int, _ s: Scratch) {
        let tables = self.tables
        guard !tables.isEmpty(t) else { return }
        let gated = indicators != .zero
        for i in range {
            let r = records[i]
            for k in tables.range(t, code: r.code) {
                let f = tables.field(k)
                if !gated || tables.gate[f].intersects(indicators) { update(f, r.date, r.code, r.firstValue, r.secondValue, p, s) }
            }
        }
    }

    @inline(__always)
    private func update(_ f: Int, _ date: Day, _ code: Int32, _ v1: Float, _ v2: Float, _ p: Int, _ s: Scratch) {
        if lazyWindow[f], s.windowFor[f] != p {
            dynamicWindow(f, p, s)
            s.windowFor[f] = p
        }
        guard s.open[f], date >= s.lower[f], date <= s.upper[f] else { return }
        var cur = s.values[f]
        if cur.isNull {
            s.touched[s.touchedCount] = Int32(f)
            s.touchedCount += 1
        }
        if fieldCounts[f] {
            cur.count += 1
            if cur.isNull || date > cur.date { cur.date = date }
        } else {
            let latest = fieldLatest[f]
            if cur.isNull || (latest ? date > cur.date : date < cur.date) {
                cur = FieldValue(date: date, value: v1, value2: v2, code: code, count: cur.count + 1)
            } else if date == cur.date {
                // Several records on the chosen day: keep the lowest (or highest) values, and the code with the
                // smallest concept id, so that the choice does not depend on reading order. A record with two
                // values (a BP reading) is never mixed with single-value records (a lone systolic or diastolic):
                // pairs win, and singles only merge with singles.
                let lowest = compiled.fieldSameDayLowest[f]
                let newPair = !v2.isNaN
                let curPair = !cur.value2.isNaN
                if newPair && !curPair {
                    cur.value = v1
                    cur.value2 = v2
                    cur.code = code
                } else if newPair == curPair {
                    if !v1.isNaN, cur.value.isNaN || (lowest ? v1 < cur.value : v1 > cur.value) { cur.value = v1 }
                    if newPair, lowest ? v2 < cur.value2 : v2 > cur.value2 { cur.value2 = v2 }
                    if population.codes[code] < population.codes[cur.code] { cur.code = code }
                }
                cur.count += 1
            } else {
                cur.count += 1
            }
        }
        s.values[f] = cur
    }

    /// The start of the registration that covers the achievement date.
    func registrationStart(_ p: Int) -> Day? {
        for r in population.registrationRange(p) where population.registrations[r].contains(compiled.achievementDate) {
            return population.registrations[r].start
        }
        return nil
    }

    func evaluate(_ index: Int32, _ p: Int, _ s: Scratch) -> Value {
        switch nodes[Int(index)] {
        case .constant(let v): return v
        case .field(let f, let member):
            let v = s.values[Int(f)]
            switch member {
            case .count: return .number(Double(v.count))
            case .date: return v.isNull ? .null : .day(v.date)
            case .value: return v.isNull || v.value.isNaN ? .null : .number(Double(v.value))
            case .value2: return v.isNull || v.value2.isNaN ? .null : .number(Double(v.value2))
            case .code: return v.isNull ? .null : .number(Double(population.codes[v.code]))
            }
        case .register(let r): return .bool(s.registers[Int(r)])
        case .age: return .number(Double(s.age))
        case .sex: return s.sex
        case .birth: return .day(population.birthDates[p])
        case .registrationStart: return s.registrationStart
        case .ethnicity:
            // The ethnic category the extract gives for the patient, as its concept id (null when none is recorded).
            let e = population.ethnicity[p]
            return e < 0 ? .null : .number(Double(population.codes[e]))
        case .shift(let inner, let amount, let unit):
            if s.shiftedFor[Int(index)] != p {
                if case .birth = nodes[Int(inner)], unit != .days {
                    // Calendar months from the birth date's parts, already at hand: clamped to the month's end.
                    let total = s.born.year * 12 + (s.born.month - 1) + Int(amount) * (unit == .years ? 12 : 1)
                    let year = total / 12, month = total % 12 + 1
                    s.shifted[Int(index)] = Day(year: year, month: month, day: min(s.born.day, Day.daysIn(month: month, year: year)))
                        .map { .day($0) } ?? .null
                } else if case .day(let d) = evaluate(inner, p, s) {
                    s.shifted[Int(index)] = .day(CompiledRuleset.shift(d, Int(amount), unit))
                } else {
                    s.shifted[Int(index)] = .null
                }
                s.shiftedFor[Int(index)] = p
            }
            return s.shifted[Int(index)]
        case .compare(let a, let op, let b):
            return .bool(Self.compare(evaluate(a, p, s), op, evaluate(b, p, s)))
        case .isNull(let inner, let negated):
            let isNull = evaluate(inner, p, s) == .null
            return .bool(negated ? !isNull : isNull)
        case .fieldInCluster(let f, let cluster):
            let v = s.values[Int(f)]
            return .bool(!v.isNull && v.code >= 0 && clusterMembership[Int(clusterRow[Int(cluster)]) * codeCount + Int(v.code)])
        case .valueInCluster(let inner, let cluster):
            // Only a whole, non-negative number can be a concept id (a value tested against a cluster never traps).
            guard case .number(let n) = evaluate(inner, p, s), n >= 0, n < 1.8e19, n == n.rounded() else { return .bool(false) }
            return .bool(compiled.clusterConcepts[Int(cluster)].contains(UInt64(n)))
        case .fieldIsNull(let f, let negated):
            let isNull = s.values[Int(f)].isNull
            return .bool(negated ? !isNull : isNull)
        case .fieldDateCompare(let f, let op, let d):
            let v = s.values[Int(f)]
            return .bool(!v.isNull && Self.order(v.date, op, d))
        case .ageCompare, .fieldValueCompare, .birthCompare, .sexIs: return .bool(holds(index, p, s))
        case .and, .or, .not: return .bool(holds(index, p, s))
        }
    }

    /// Whether the expression at `index` holds for the patient (is truthy): the rule chains' question,
    /// answered without making a `Value` for the shapes rules mostly take (a record present, its date
    /// against a bound, an age test, register membership, and/or/not of those).
    func holds(_ index: Int32, _ p: Int, _ s: Scratch) -> Bool {
        switch nodes[Int(index)] {
        case .fieldIsNull(let f, let negated): return s.values[Int(f)].isNull != negated
        case .fieldDateCompare(let f, let op, let d):
            let v = s.values[Int(f)]
            return !v.isNull && Self.order(v.date, op, d)
        case .ageCompare(let op, let n): return Self.order(Double(s.age), op, n)
        case .birthCompare(let op, let d): return Self.order(population.birthDates[p], op, d)
        case .sexIs(let x, let negated): return (s.sex == .symbol(x)) != negated
        case .fieldValueCompare(let f, let second, let op, let n):
            let v = s.values[Int(f)]
            let x = second ? v.value2 : v.value
            return !v.isNull && !x.isNaN && Self.order(Double(x), op, n)
        case .register(let r): return s.registers[Int(r)]
        case .fieldInCluster(let f, let cluster):
            let v = s.values[Int(f)]
            return !v.isNull && v.code >= 0 && clusterMembership[Int(clusterRow[Int(cluster)]) * codeCount + Int(v.code)]
        case .and(let a, let b): return holds(a, p, s) && holds(b, p, s)
        case .or(let a, let b): return holds(a, p, s) || holds(b, p, s)
        case .not(let inner): return !holds(inner, p, s)
        default: return evaluate(index, p, s).truthy
        }
    }

    @inline(__always)
    private static func order<T: Comparable>(_ x: T, _ op: Expression.Comparison, _ y: T) -> Bool {
        switch op {
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        case .ge: return x >= y
        case .eq: return x == y
        case .ne: return x != y
        }
    }

    /// Comparisons with null are false (a missing reading is never "at or below target").
    private static func compare(_ a: Value, _ op: Expression.Comparison, _ b: Value) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return order(x, op, y)
        case (.day(let x), .day(let y)): return order(x, op, y)
        case (.symbol(let x), .symbol(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
        case (.bool(let x), .bool(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
        default: return false
        }
    }

    /// Walks the chain at `range` of a flat rule array: the first rule whose action is Select or Reject
    /// decides. Returns the action and the flat index of the deciding rule.
    /// The engine and explanations both walk chains here; an explanation watches each rule's result through
    /// `observe` (the engine passes nothing, and the check compiles away).
    @inline(__always)
    func run(_ rules: UnsafeBufferPointer<CompiledRuleset.ResolvedRule>, _ range: Range<Int>, _ p: Int, _ s: Scratch,
             observe: ((_ rule: Int, _ result: Bool, _ action: RuleAction) -> Void)? = nil) -> (RuleAction, Int) {
        for i in range {
            let result = holds(rules[i].root, p, s)
            let action = result ? rules[i].then : rules[i].otherwise
            observe?(i, result, action)
            if action != .next { return (action, i) }
        }
        return (.reject, range.upperBound - 1)  // unreachable for validated chains
    }
}
