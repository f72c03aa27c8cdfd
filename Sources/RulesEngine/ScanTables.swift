import Clinical

/// The look-up tables of one practice's patient scans, in raw memory this object owns: for each stage
/// (0: fields every patient needs, 1: fields gated by indicator), dependency level and source (events,
/// medications), the fields that want each of the practice's codes; the fields whose window depends on
/// the patient; and each field's gate. The per-patient loop reads them through plain pointers, with
/// no reference counting and no bounds checks (nested Swift arrays cost a retain and a release per
/// table per patient, millions of times per extract).
final class ScanTables {
    let levels: Int
    /// Codes in the practice: each table has `codes + 1` starts.
    let codes: Int
    /// Table `t`'s fields for code `c` are `fields[starts[t * (codes + 1) + c] ..< starts[t * (codes + 1) + c + 1]]`,
    /// with the starts of each table counted from `fieldBase[t]`.
    private let starts: UnsafeMutableBufferPointer<Int32>
    private let fields: UnsafeMutableBufferPointer<Int32>
    private let fieldBase: UnsafeMutableBufferPointer<Int>
    private let fieldTotal: UnsafeMutableBufferPointer<Int>
    /// Patient-dependent windows per stage and level: `dynamic[dynamicBase[k] ..< dynamicBase[k + 1]]`, `k = stage * levels + level`.
    private let dynamic: UnsafeMutableBufferPointer<Int32>
    private let dynamicBase: UnsafeMutableBufferPointer<Int>
    /// Per field: the indicators whose open patients need it (none: every patient).
    let gate: UnsafeMutableBufferPointer<IndicatorMask>

    /// The tables of `compiled` for a practice whose code `c` is the ruleset's concept `concepts[c]` (-1: none).
    init(_ compiled: CompiledRuleset, concepts: [Int32]) {
        let levels = max(1, compiled.levels)
        let n = concepts.count
        let gate = compiled.gates.masks
        self.levels = levels
        codes = n
        // Built code by code, so each table's list stays grouped by code: first each code's count per table,
        // then a running sum along each table turns counts into starts.
        let tables = 2 * levels * 2
        starts = .allocate(capacity: tables * (n + 1))
        starts.initialize(repeating: 0)
        var lists = [[Int32]](repeating: [], count: tables)
        for (c, k) in concepts.enumerated() where k >= 0 {
            for e in compiled.conceptFields[Int(k)] {
                let t = Self.table(stage: gate[Int(e.field)] == .zero ? 0 : 1, level: Int(e.level), medication: e.medication, levels: levels)
                lists[t].append(e.field)
                starts[t * (n + 1) + c + 1] += 1
            }
        }
        for t in 0..<tables {
            var sum: Int32 = 0
            for c in 0...n {
                sum += starts[t * (n + 1) + c]
                starts[t * (n + 1) + c] = sum
            }
        }
        let all = lists.flatMap { $0 }
        fields = .allocate(capacity: max(1, all.count))
        _ = fields.initialize(from: all)
        fieldBase = .allocate(capacity: tables)
        fieldTotal = .allocate(capacity: tables)
        var base = 0
        for (t, list) in lists.enumerated() {
            fieldBase[t] = base
            fieldTotal[t] = list.count
            base += list.count
        }
        // Patient-dependent windows (no constant bounds), by stage and level.
        let fieldCount = compiled.fieldKinds.count
        let flatDynamic = (0..<2).flatMap { stage in
            (0..<levels).map { level in
                (0..<fieldCount).filter {
                    compiled.fieldLevel[$0] == level && compiled.constantBounds[$0] == nil && (gate[$0] == .zero) == (stage == 0)
                }
            }
        }
        dynamic = .allocate(capacity: max(1, flatDynamic.reduce(0) { $0 + $1.count }))
        dynamicBase = .allocate(capacity: flatDynamic.count + 1)
        var d = 0
        for (k, list) in flatDynamic.enumerated() {
            dynamicBase[k] = d
            for f in list {
                dynamic[d] = Int32(f)
                d += 1
            }
        }
        dynamicBase[flatDynamic.count] = d
        self.gate = .allocate(capacity: max(1, gate.count))
        _ = self.gate.initialize(from: gate)
    }

    deinit {
        starts.deallocate()
        fields.deallocate()
        fieldBase.deallocate()
        fieldTotal.deallocate()
        dynamic.deallocate()
        dynamicBase.deallocate()
        gate.deallocate()
    }

    /// The index of the table of one stage, level and source.
    @inline(__always)
    func table(stage: Int, level: Int, medication: Bool) -> Int { Self.table(stage: stage, level: level, medication: medication, levels: levels) }

    @inline(__always)
    static func table(stage: Int, level: Int, medication: Bool, levels: Int) -> Int { (stage * levels + level) * 2 + (medication ? 1 : 0) }

    /// Whether table `t` has any field at all (most levels of most stages have none for medications).
    @inline(__always)
    func isEmpty(_ t: Int) -> Bool { fieldTotal[t] == 0 }

    /// The fields of table `t` that want code `c`, as a range of `field(_:)` positions.
    @inline(__always)
    func range(_ t: Int, code c: Int32) -> Range<Int> {
        let row = t * (codes + 1) + Int(c)
        return fieldBase[t] + Int(starts[row]) ..< fieldBase[t] + Int(starts[row + 1])
    }

    @inline(__always)
    func field(_ k: Int) -> Int { Int(fields[k]) }

    /// The patient-dependent windows of one stage and level, as a range of `dynamicField(_:)` positions.
    @inline(__always)
    func dynamicRange(stage: Int, level: Int) -> Range<Int> {
        let k = stage * levels + level
        return dynamicBase[k] ..< dynamicBase[k + 1]
    }

    @inline(__always)
    func dynamicField(_ k: Int) -> Int { Int(dynamic[k]) }
}

/// A practice's records as plain buffers for the length of an evaluation (see `PatientEvaluator.withRecords`).
struct RecordBuffers {
    let events: UnsafeBufferPointer<Event>
    let medications: UnsafeBufferPointer<Medication>
}
