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

/// Per-patient working memory, reused from one patient to the next. Raw buffers sized once per
/// practice: the per-patient loop reads and writes them with no uniqueness or bounds checks.
final class Scratch {
    let values: UnsafeMutableBufferPointer<FieldValue>
    let lower: UnsafeMutableBufferPointer<Day>
    let upper: UnsafeMutableBufferPointer<Day>
    let open: UnsafeMutableBufferPointer<Bool>
    let registers: UnsafeMutableBufferPointer<Bool>
    /// Fields given a value for the current patient: the only ones to clear before the next.
    let touched: UnsafeMutableBufferPointer<Int32>
    var touchedCount = 0
    /// Date shifts (`PAT_DOB + 8 months`, `DM_DAT + 9 months`) by node, and the patient each was worked out
    /// for: calendar arithmetic once per patient, not once per use. (A shift is first worked out once the
    /// fields it reads are final: windows read only earlier levels, rules run after every level.)
    let shifted: UnsafeMutableBufferPointer<Value>
    let shiftedFor: UnsafeMutableBufferPointer<Int>
    /// The patient each level-0 patient-dependent window was last worked out for (worked out on the first
    /// record that could fall in it: most patients have none for most fields).
    let windowFor: UnsafeMutableBufferPointer<Int>
    var age = 0
    /// The patient's date of birth as calendar parts (for ages and `PAT_DOB + n months`).
    var born = (year: 0, month: 0, day: 0)
    var sex = Value.null
    var registrationStart = Value.null

    init(_ compiled: CompiledRuleset) {
        let fields = compiled.fieldKinds.count
        let nodes = compiled.program.nodes.count
        values = .allocate(capacity: fields)
        values.initialize(repeating: FieldValue())
        // Constant windows are set once; windows that depend on the patient are set for each patient.
        lower = .allocate(capacity: fields)
        upper = .allocate(capacity: fields)
        for f in 0..<fields {
            lower[f] = compiled.constantBounds[f]?.lower ?? .distantPast
            upper[f] = compiled.constantBounds[f]?.upper ?? .distantPast
        }
        open = .allocate(capacity: fields)
        open.initialize(repeating: true)
        registers = .allocate(capacity: max(1, compiled.ruleset.registers.count))
        registers.initialize(repeating: false)
        touched = .allocate(capacity: fields)
        touched.initialize(repeating: 0)
        shifted = .allocate(capacity: nodes)
        shifted.initialize(repeating: .null)
        shiftedFor = .allocate(capacity: nodes)
        shiftedFor.initialize(repeating: -1)
        windowFor = .allocate(capacity: max(1, fields))
        windowFor.initialize(repeating: -1)
    }

    deinit {
        values.deallocate()
        lower.deallocate()
        upper.deallocate()
        open.deallocate()
        registers.deallocate()
        touched.deallocate()
        shifted.deallocate()
        shiftedFor.deallocate()
        windowFor.deallocate()
    }
}

/// A dated, coded record a field can take its value from: an event (value and second value) or a
/// medication issue (quantity).
protocol CodedRecord {
    var date: Day { get }
    var code: Int32 { get }
    var firstValue: Float { get }
    var secondValue: Float { get }
}

extension Event: CodedRecord {
    var firstValue: Float { value }
    var secondValue: Float { value2 }
}

extension Medication: CodedRecord {
    var firstValue: Float { quantity }
    var secondValue: Float { .nan }
}
