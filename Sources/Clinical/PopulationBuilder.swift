/// The one way to make a `Population`: extract readers, the synthesiser and tests fill its columns (per
/// patient, or in bulk with offsets), and `build()` checks that they fit together (one entry per patient in
/// every column, offsets from 0 ordered up to the record count, codes and areas in their tables, records in
/// date order within each patient) before handing out a population nobody can change.
public struct PopulationBuilder: Sendable {
    public var practice: PracticeInfo
    public var dataTo: Day
    public var codes = CodeTable()
    public var patientIDs: [String] = []
    public var nhsNumbers: [UInt64] = []
    public var birthDates: [Day] = []
    public var sexes: [Sex] = []
    public var deathDates: [Day] = []
    public var lsoa: [Int32] = []
    public var lsoaCodes: [String] = []
    public var ethnicity: [Int32] = []
    public var registrationOffsets: [Int32] = [0]
    public var registrations: [Registration] = []
    public var eventOffsets: [Int32] = [0]
    public var events: [Event] = []
    public var medicationOffsets: [Int32] = [0]
    public var medications: [Medication] = []

    public init(practice: PracticeInfo, dataTo: Day) {
        self.practice = practice
        self.dataTo = dataTo
    }

    /// A builder holding a population's columns, to make a changed copy.
    public init(_ p: Population) {
        practice = p.practice
        dataTo = p.dataTo
        codes = p.codes
        patientIDs = p.patientIDs
        nhsNumbers = p.nhsNumbers
        birthDates = p.birthDates
        sexes = p.sexes
        deathDates = p.deathDates
        lsoa = p.lsoa
        lsoaCodes = p.lsoaCodes
        ethnicity = p.ethnicity
        registrationOffsets = p.registrationOffsets
        registrations = p.registrations
        eventOffsets = p.eventOffsets
        events = p.events
        medicationOffsets = p.medicationOffsets
        medications = p.medications
    }

    public var patientCount: Int { patientIDs.count }

    /// Adds one patient with their records (in any order: they are put in date order). Returns their row.
    @discardableResult
    public mutating func addPatient(
        id: String, nhsNumber: UInt64 = 0, born: Day, sex: Sex, died: Day = .distantFuture, lsoa area: Int32 = -1, ethnicity code: Int32 = -1,
        registrations regs: [Registration], events evs: [Event] = [], medications meds: [Medication] = []
    ) -> Int {
        patientIDs.append(id)
        nhsNumbers.append(nhsNumber)
        birthDates.append(born)
        sexes.append(sex)
        deathDates.append(died)
        lsoa.append(area)
        ethnicity.append(code)
        registrations += regs.sorted { $0.start < $1.start }
        registrationOffsets.append(Int32(registrations.count))
        events += evs.sorted { $0.date < $1.date }
        eventOffsets.append(Int32(events.count))
        medications += meds.sorted { $0.date < $1.date }
        medicationOffsets.append(Int32(medications.count))
        return patientIDs.count - 1
    }

    /// Why the columns do not make a population.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The population, once its columns are checked.
    public func build() throws(Problem) -> Population {
        var p = Population(practice: practice, dataTo: dataTo)
        p.codes = codes
        p.patientIDs = patientIDs
        p.nhsNumbers = nhsNumbers
        p.birthDates = birthDates
        p.sexes = sexes
        p.deathDates = deathDates
        p.lsoa = lsoa
        p.lsoaCodes = lsoaCodes
        p.ethnicity = ethnicity
        p.registrationOffsets = registrationOffsets
        p.registrations = registrations
        p.eventOffsets = eventOffsets
        p.events = events
        p.medicationOffsets = medicationOffsets
        p.medications = medications
        if let problem = p.brokenInvariant() ?? p.unorderedRecords() { throw Problem(description: problem) }
        return p
    }
}

extension Population {
    /// What is wrong with the columns the engine reads without bounds checks (nil when nothing): one entry per
    /// patient everywhere, each offset array from 0, ordered, ending at its records' count, every code in the
    /// code table and every area in the area table. Checked by `PopulationBuilder.build()` and again, once per
    /// practice, by the engine before its unchecked loops.
    public func brokenInvariant() -> String? {
        let n = patientIDs.count
        for (name, count) in [("NHS numbers", nhsNumbers.count), ("birth dates", birthDates.count), ("sexes", sexes.count),
                              ("death dates", deathDates.count), ("areas", lsoa.count), ("ethnicities", ethnicity.count)] where count != n {
            return "\(count) \(name) for \(n) patients"
        }
        func offsets(_ o: [Int32], _ records: Int, _ name: String) -> String? {
            guard o.count == n + 1, o.first == 0, o.last == Int32(records) else { return "\(name) offsets do not span \(n) patients and \(records) records" }
            for i in 1..<o.count where o[i] < o[i - 1] { return "\(name) offsets out of order at patient \(i - 1)" }
            return nil
        }
        if let p = offsets(registrationOffsets, registrations.count, "registration") ?? offsets(eventOffsets, events.count, "event")
            ?? offsets(medicationOffsets, medications.count, "medication") { return p }
        let codeCount = Int32(codes.count)
        if events.contains(where: { $0.code < 0 || $0.code >= codeCount }) { return "an event's code is not in the code table" }
        if medications.contains(where: { $0.code < 0 || $0.code >= codeCount }) { return "a medication's code is not in the code table" }
        if ethnicity.contains(where: { $0 < -1 || $0 >= codeCount }) { return "an ethnicity is not in the code table" }
        if lsoa.contains(where: { $0 < -1 || $0 >= Int32(lsoaCodes.count) }) { return "an area is not in the area table" }
        return nil
    }

    /// Records not in date order within a patient (the readers sort them; a builder's caller must too).
    func unorderedRecords() -> String? {
        for p in 0..<patientCount {
            for i in eventRange(p).dropFirst() where events[i].date < events[i - 1].date { return "events out of date order for patient \(p)" }
            for i in medicationRange(p).dropFirst() where medications[i].date < medications[i - 1].date {
                return "medications out of date order for patient \(p)"
            }
        }
        return nil
    }
}
