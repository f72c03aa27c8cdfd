/// One coded clinical record: a SNOMED CT concept on a date, with up to two numeric values
/// (a BP reading carries systolic and diastolic on one row). 16 bytes.
public struct Event: Sendable, Hashable {
    public var date: Day
    public var code: Int32
    /// First value (NaN when absent), e.g. systolic BP, HbA1c in mmol/mol.
    public var value: Float
    /// Second value (NaN when absent), e.g. diastolic BP.
    public var value2: Float

    public init(date: Day, code: Int32, value: Float = .nan, value2: Float = .nan) {
        self.date = date
        self.code = code
        self.value = value
        self.value2 = value2
    }

    public static func == (a: Event, b: Event) -> Bool {
        a.date == b.date && a.code == b.code && a.value.bitPattern == b.value.bitPattern
            && a.value2.bitPattern == b.value2.bitPattern
    }

    public func hash(into h: inout Hasher) {
        h.combine(date)
        h.combine(code)
        h.combine(value.bitPattern)
        h.combine(value2.bitPattern)
    }
}

/// One medication issue: a dm+d concept on a date, with the quantity issued.
public struct Medication: Sendable, Hashable {
    public var date: Day
    public var code: Int32
    public var quantity: Float

    public init(date: Day, code: Int32, quantity: Float = .nan) {
        self.date = date
        self.code = code
        self.quantity = quantity
    }
}

/// A period of GMS registration at the practice; `end` is `Day.distantFuture` while current.
public struct Registration: Sendable, Hashable {
    public var start: Day
    public var end: Day

    public init(start: Day, end: Day = .distantFuture) {
        self.start = start
        self.end = end
    }

    public func contains(_ day: Day) -> Bool { start <= day && day <= end }
}

/// Sex as recorded: male, female, indeterminate, unknown.
public enum Sex: UInt8, Sendable, CaseIterable {
    case male = 77  // "M"
    case female = 70  // "F"
    case indeterminate = 73  // "I"
    case unknown = 85  // "U"

    public var letter: String { String(UnicodeScalar(rawValue)) }
}

/// The practice and PCN an extract comes from.
public struct PracticeInfo: Sendable, Hashable, Codable {
    public var ods: String
    public var name: String
    public var pcnODS: String?
    public var pcnName: String?

    public init(ods: String, name: String, pcnODS: String? = nil, pcnName: String? = nil) {
        self.ods = ods
        self.name = name
        self.pcnODS = pcnODS
        self.pcnName = pcnName
    }
}

/// Every patient of one practice extract, in columns: one entry per patient in the per-patient
/// arrays, and events, medications and registrations as flat arrays grouped by patient (offsets)
/// and sorted by date within each patient. The rules engine scans each patient's history once.
/// The columns are read-only outside this module: a population is made by `PopulationBuilder`, whose
/// `build()` checks that they fit together, so the engine's unchecked loops can rely on them.
public struct Population: Sendable {
    public var practice: PracticeInfo
    /// The date the extract's data runs to.
    public var dataTo: Day
    public internal(set) var codes = CodeTable()

    public internal(set) var patientIDs: [String] = []
    /// NHS numbers as integers (0 when absent). Patient-identifiable: never log.
    public internal(set) var nhsNumbers: [UInt64] = []
    public internal(set) var birthDates: [Day] = []
    public internal(set) var sexes: [Sex] = []
    /// `Day.distantFuture` when alive.
    public internal(set) var deathDates: [Day] = []
    /// Index into `lsoaCodes`, -1 when absent.
    public internal(set) var lsoa: [Int32] = []
    public internal(set) var lsoaCodes: [String] = []
    /// Interned ethnicity concept, -1 when absent.
    public internal(set) var ethnicity: [Int32] = []

    public internal(set) var registrationOffsets: [Int32] = [0]
    public internal(set) var registrations: [Registration] = []
    public internal(set) var eventOffsets: [Int32] = [0]
    public internal(set) var events: [Event] = []
    public internal(set) var medicationOffsets: [Int32] = [0]
    public internal(set) var medications: [Medication] = []

    public init(practice: PracticeInfo, dataTo: Day) {
        self.practice = practice
        self.dataTo = dataTo
    }

    public var patientCount: Int { patientIDs.count }

    public func eventRange(_ patient: Int) -> Range<Int> {
        Int(eventOffsets[patient])..<Int(eventOffsets[patient + 1])
    }

    public func medicationRange(_ patient: Int) -> Range<Int> {
        Int(medicationOffsets[patient])..<Int(medicationOffsets[patient + 1])
    }

    public func registrationRange(_ patient: Int) -> Range<Int> {
        Int(registrationOffsets[patient])..<Int(registrationOffsets[patient + 1])
    }

    /// True when the patient is registered on `day` and alive on it.
    public func isRegisteredAndAlive(_ patient: Int, on day: Day) -> Bool {
        guard deathDates[patient] > day else { return false }
        for r in registrationRange(patient) where registrations[r].contains(day) { return true }
        return false
    }

    /// Patient index by external id (built on demand; not for hot paths).
    public func index(ofPatient id: String) -> Int? { patientIDs.firstIndex(of: id) }
}
