/// Which patients need each field worked out. A register rule's fields are needed for every patient;
/// a field only indicators read is needed only for patients an indicator that reads it is open to: on
/// its register, and not turned away by the indicator's first rules when those read no record (BP002's
/// "aged under 45", VI004's "did not reach 80 in the year"). Most patients are on few registers and
/// pass few such tests, so the engine works out register fields first, decides the registers and the
/// open indicators, and then only the fields those indicators read.
///
/// A chain runs only for patients on its register and reads a field only after its record-free first
/// rules have let the patient through, so a field left out for a patient is never read: the counts
/// are the same as working out every field.
struct FieldGates: Sendable {
    /// Per field: the indicators whose open patients need it, or none when every patient does (a register
    /// rule or a register field's window reads it, or no rule reads it).
    let masks: [IndicatorMask]
    /// The union of the masks: a patient no such indicator is open to needs no gated field.
    let any: IndicatorMask
    /// Per indicator: how many of its first denominator rules read no field (age, sex, birth date,
    /// registration and register tests only): decided before the gated fields are worked out.
    let recordFreeRules: [Int]
    /// Per register: its indicators.
    let indicatorsOfRegister: [IndicatorMask]
    /// Indicators with gated fields and record-free first rules: screened before their fields are worked out.
    let screened: IndicatorMask

    init(program: Program, fieldCount: Int, fieldLevel: [Int], windowRoots: [(after: Int32?, onOrAfter: Int32?, before: Int32?, onOrBefore: Int32?)],
         registerRules: [[CompiledRuleset.ResolvedRule]], indicatorRules: [(denominator: [CompiledRuleset.ResolvedRule], numerator: [CompiledRuleset.ResolvedRule], register: Int)],
         enabled: Bool = true)
    {
        func fields(_ root: Int32, into out: inout Set<Int>) { program.fields(readBy: root, into: &out) }
        // The fields each field's window reads (an anchor such as the diagnosis date).
        let windowFields: [Set<Int>] = windowRoots.map { w in
            var out = Set<Int>()
            for root in [w.after, w.onOrAfter, w.before, w.onOrBefore].compactMap({ $0 }) { fields(root, into: &out) }
            return out
        }
        // Every patient: fields register rules read, and the fields their windows read, transitively.
        var always = [Bool](repeating: false, count: fieldCount)
        var pending = Set<Int>()
        for chain in registerRules { for rule in chain { fields(rule.root, into: &pending) } }
        while let f = pending.popFirst() {
            guard !always[f] else { continue }
            always[f] = true
            pending.formUnion(windowFields[f].filter { !always[$0] })
        }
        // Gated: the indicators that read a field after their record-free rules, passed down to the fields
        // its window reads (deepest levels first, so a chain of windows carries them all the way).
        var masks = [IndicatorMask](repeating: .zero, count: fieldCount)
        var recordFree = [Int](repeating: 0, count: indicatorRules.count)
        var ofRegister = [IndicatorMask](repeating: .zero, count: registerRules.count)
        for (i, ind) in indicatorRules.enumerated() {
            ofRegister[ind.register] |= .indicator(i)
            var read = Set<Int>()
            for rule in ind.denominator + ind.numerator {
                fields(rule.root, into: &read)
                if read.isEmpty && recordFree[i] < ind.denominator.count { recordFree[i] += 1 }
            }
            for f in read { masks[f] |= .indicator(i) }
        }
        for f in (0..<fieldCount).sorted(by: { fieldLevel[$0] > fieldLevel[$1] }) {
            for d in windowFields[f] { masks[d] |= masks[f] }
        }
        for f in 0..<fieldCount where always[f] || !enabled { masks[f] = .zero }
        if !enabled { recordFree = recordFree.map { _ in 0 } }
        self.masks = masks
        any = masks.reduce(.zero, |)
        recordFreeRules = recordFree
        indicatorsOfRegister = ofRegister
        screened = recordFree.indices.filter { recordFree[$0] > 0 }.reduce(IndicatorMask.zero) { $0 | .indicator($1) } & any
    }
}

/// A set of indicators by their index in the ruleset, as four 64-bit words: a ruleset holds at most
/// `IndicatorMask.capacity` indicators (the validator says so), and testing a field's indicators
/// against a patient's open ones is one vector AND.
typealias IndicatorMask = SIMD4<UInt64>

extension SIMD4 where Scalar == UInt64 {
    /// The most indicators a ruleset may hold.
    static var capacity: Int { 256 }

    /// The set holding indicator `i` alone.
    @inline(__always)
    static func indicator(_ i: Int) -> Self {
        var m = Self.zero
        m[i >> 6] = 1 << UInt64(i & 63)
        return m
    }

    @inline(__always)
    func intersects(_ other: Self) -> Bool { (self & other) != .zero }

    @inline(__always)
    mutating func remove(_ i: Int) { self[i >> 6] &= ~(1 << UInt64(i & 63)) }

    /// The indicators in the set, in index order.
    @inline(__always)
    var members: IndicatorMaskMembers { IndicatorMaskMembers(mask: self) }
}

/// The indices set in an `IndicatorMask`, lowest first, one word at a time.
struct IndicatorMaskMembers: Sequence, IteratorProtocol {
    var mask: IndicatorMask
    var word = 0

    @inline(__always)
    mutating func next() -> Int? {
        while word < 4 {
            let bits = mask[word]
            if bits != 0 {
                mask[word] = bits & (bits - 1)
                return word << 6 | bits.trailingZeroBitCount
            }
            word += 1
        }
        return nil
    }
}
