import Clinical

extension Population {
    /// The population as an extract taken on `day` would have held it: patients born by then, their
    /// registrations, events and medications up to that day, later deaths and leavings not yet known.
    /// Lets one generated practice stand for a series of weekly or monthly extracts through a year.
    public func asOf(_ day: Day) -> Population {
        var out = PopulationBuilder(practice: practice, dataTo: day)
        out.codes = codes
        out.lsoaCodes = lsoaCodes
        for i in 0..<patientCount where birthDates[i] <= day {
            let regs = registrationRange(i).map { registrations[$0] }.filter { $0.start <= day }
                .map { Registration(start: $0.start, end: $0.end > day ? .distantFuture : $0.end) }
            out.patientIDs.append(patientIDs[i])
            out.nhsNumbers.append(nhsNumbers[i])
            out.birthDates.append(birthDates[i])
            out.sexes.append(sexes[i])
            out.deathDates.append(deathDates[i] > day ? .distantFuture : deathDates[i])
            out.lsoa.append(lsoa[i])
            out.ethnicity.append(ethnicity[i])
            out.registrations += regs
            out.registrationOffsets.append(Int32(out.registrations.count))
            out.events += eventRange(i).map { events[$0] }.filter { $0.date <= day }
            out.eventOffsets.append(Int32(out.events.count))
            out.medications += medicationRange(i).map { medications[$0] }.filter { $0.date <= day }
            out.medicationOffsets.append(Int32(out.medications.count))
        }
        return try! out.build()  // a subset of a population, in its order: it fits together
    }
}
