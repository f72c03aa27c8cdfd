import Clinical

/// A person as the stratification tests write one: born, sex, area, ethnicity column, coded records and
/// medicines, registered (since 2000 unless said) and alive.
struct TestPerson {
    var born: String
    var sex: Sex = .female
    var lsoa: String? = nil
    var ethnicity: UInt64? = nil
    var events: [(UInt64, String, Float)] = []
    var medicines: [(UInt64, String)] = []
    var registered = "2000-01-01"
}

/// Builds a practice population from test people (shared by the frailty, QRISK3, segmentation and cohort tests).
enum TestPopulation {
    static let day = Day(iso: "2026-03-31")!

    static func build(_ people: [TestPerson]) -> Population {
        var b = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "Test"), dataTo: day)
        var areas: [String: Int32] = [:]
        for (i, p) in people.enumerated() {
            b.patientIDs.append("P\(i)")
            b.nhsNumbers.append(0)
            b.birthDates.append(Day(iso: p.born)!)
            b.sexes.append(p.sex)
            b.deathDates.append(.distantFuture)
            if let l = p.lsoa {
                if areas[l] == nil {
                    areas[l] = Int32(b.lsoaCodes.count)
                    b.lsoaCodes.append(l)
                }
                b.lsoa.append(areas[l]!)
            } else {
                b.lsoa.append(-1)
            }
            b.ethnicity.append(p.ethnicity.map { b.codes.intern($0) } ?? -1)
            b.registrations.append(Registration(start: Day(iso: p.registered)!, end: .distantFuture))
            b.registrationOffsets.append(Int32(b.registrations.count))
            b.events += p.events.map { Event(date: Day(iso: $0.1)!, code: b.codes.intern($0.0), value: $0.2) }.sorted { $0.date < $1.date }
            b.eventOffsets.append(Int32(b.events.count))
            b.medications += p.medicines.map { Medication(date: Day(iso: $0.1)!, code: b.codes.intern($0.0)) }.sorted { $0.date < $1.date }
            b.medicationOffsets.append(Int32(b.medications.count))
        }
        return try! b.build()
    }
}
