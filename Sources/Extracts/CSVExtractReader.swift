import Foundation
import Clinical

/// Reads the four CSV files of an extract into a `Population`, checking every row.
///
/// patients.csv is read first (it defines the patient ids); registrations, events and medications
/// are then read in one pass each, every row checked and parsed as it comes, and grouped by patient
/// at the end (without moving anything when the file lists patients in list order, as extracts do).
struct CSVExtractReader {
    static let columns: [String: [String]] = [
        "patients.csv": ["patient_id", "nhs_number", "date_of_birth", "sex", "date_of_death", "lsoa", "ethnicity"],
        "registrations.csv": ["patient_id", "start_date", "end_date"],
        "events.csv": ["patient_id", "date", "code", "value", "value2", "unit"],
        "medications.csv": ["patient_id", "date", "code", "quantity"],
    ]

    var population: PopulationBuilder
    var problems: ProblemLog
    /// Data rows seen per file (for the manifest's row counts).
    var rowCounts: [String: Int] = [:]
    private var roster = PatientRoster()

    init(population: PopulationBuilder, problems: ProblemLog) {
        self.population = population
        self.problems = problems
    }

    /// Maps header names to positions; reports a wrong column set as a file problem.
    private mutating func header(_ scanner: inout CSVScanner, file: String) -> [String: Int]? {
        guard case .record = scanner.next() else {
            problems.file(file, line: 1, "the file is empty: a header row is required")
            return nil
        }
        let names = (0..<scanner.fieldCount).map { scanner.string($0).trimmingCharacters(in: .whitespaces).lowercased() }
        let expected = Self.columns[file]!
        let missing = expected.filter { !names.contains($0) }
        let unknown = names.filter { !expected.contains($0) }
        var duplicated: [String] = []
        for (i, n) in names.enumerated() where names[..<i].contains(n) { duplicated.append(n) }
        if !missing.isEmpty || !unknown.isEmpty || !duplicated.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unknown.isEmpty { parts.append("unexpected \(unknown.joined(separator: ", "))") }
            if !duplicated.isEmpty { parts.append("repeated \(duplicated.joined(separator: ", "))") }
            problems.file(
                file, line: 1,
                "wrong column set (\(parts.joined(separator: "; "))); expected \(expected.joined(separator: ","))")
            return nil
        }
        return Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }

    /// Reports a record the scanner could not split; returns false when the file cannot go on.
    private mutating func handle(_ outcome: CSVScanner.Outcome, _ scanner: borrowing CSVScanner, file: String, width: Int) -> Bool? {
        switch outcome {
        case .end: return nil
        case .truncated(let reason):
            problems.file(file, line: scanner.recordLine, reason)
            return nil
        case .malformed(let column, let reason):
            problems.row(file, line: scanner.recordLine, column: "field \(column)", "malformed CSV: \(reason)")
            return false
        case .record:
            if scanner.fieldCount != width {
                problems.row(
                    file, line: scanner.recordLine,
                    "has \(scanner.fieldCount) fields, the header has \(width)")
                return false
            }
            return true
        }
    }

    // MARK: patients.csv

    mutating func readPatients(_ bytes: UnsafeRawBufferPointer) {
        let file = "patients.csv"
        var scanner = CSVScanner(bytes)
        guard let h = header(&scanner, file: file) else { return }
        let (cID, cNHS, cDOB, cSex, cDOD, cLSOA, cEth) = (
            h["patient_id"]!, h["nhs_number"]!, h["date_of_birth"]!, h["sex"]!, h["date_of_death"]!, h["lsoa"]!,
            h["ethnicity"]!
        )
        var rows = 0
        let dataTo = population.dataTo
        while true {
            let outcome = scanner.next()
            guard let ok = handle(outcome, scanner, file: file, width: h.count) else { break }
            rows += 1
            guard ok else { continue }
            let line = scanner.recordLine
            let id = scanner.string(cID)
            guard !id.isEmpty, id.utf8.count <= 64 else {
                problems.row(file, line: line, column: "patient_id", "patient_id is empty or longer than 64 characters")
                continue
            }
            guard (scanner.isEscaped(cID) ? roster[id: id] : roster[bytes: scanner.raw(cID)]) == nil else {
                problems.row(file, line: line, column: "patient_id", "duplicate patient_id (first row kept)")
                continue
            }
            var nhs: UInt64 = 0
            let nhsBytes = scanner.raw(cNHS)
            if !nhsBytes.isEmpty {
                guard NHSNumber.isValid(nhsBytes) else {
                    problems.row(file, line: line, column: "nhs_number", "not a valid NHS number (Modulus 11 check failed)")
                    continue
                }
                nhs = CodeTable.parseConcept(nhsBytes) ?? 0
            }
            guard let dob = Day(iso: scanner.raw(cDOB)) else {
                problems.row(file, line: line, column: "date_of_birth", "not a valid date (YYYY-MM-DD)")
                continue
            }
            guard dob >= Day.earliestRecord, dob <= dataTo else {
                problems.row(file, line: line, column: "date_of_birth", "before \(Day.earliestRecord) or after the extract's data-to date \(dataTo)")
                continue
            }
            let sexBytes = scanner.raw(cSex)
            guard sexBytes.count == 1, let sex = Sex(rawValue: sexBytes[0]) else {
                problems.row(file, line: line, column: "sex", "must be one of M, F, I, U")
                continue
            }
            var death = Day.distantFuture
            let dodBytes = scanner.raw(cDOD)
            if !dodBytes.isEmpty {
                guard let d = Day(iso: dodBytes) else {
                    problems.row(file, line: line, column: "date_of_death", "not a valid date (YYYY-MM-DD)")
                    continue
                }
                guard d >= dob, d <= dataTo else {
                    problems.row(file, line: line, column: "date_of_death", "before birth or after the data-to date")
                    continue
                }
                death = d
            }
            var lsoa: Int32 = -1
            let lsoaBytes = scanner.raw(cLSOA)
            if !lsoaBytes.isEmpty {
                guard PatientRoster.lsoaNumber(lsoaBytes) != nil else {
                    problems.row(file, line: line, column: "lsoa", "not an English LSOA code (E01 and 6 digits)")
                    continue
                }
                lsoa = roster.lsoa(lsoaBytes, in: &population)
            }
            var ethnicity: Int32 = -1
            let ethBytes = scanner.raw(cEth)
            if !ethBytes.isEmpty {
                guard let concept = CodeTable.parseConcept(ethBytes) else {
                    problems.row(file, line: line, column: "ethnicity", "not a SNOMED CT concept id")
                    continue
                }
                ethnicity = population.codes.intern(concept)
            }
            roster.add(id, nhs: nhs, born: dob, sex: sex, died: death, lsoa: lsoa, ethnicity: ethnicity, to: &population)
        }
        rowCounts[file] = rows
    }

    // MARK: the three per-patient files

    /// The patient index of the id in `field`. Rows are mostly grouped by patient in list order, so the
    /// last row's patient and the next one are tried by their bytes before the id is looked up.
    private func lookup(_ scanner: borrowing CSVScanner, _ field: Int, last: inout Int32) -> Int32? {
        if !scanner.isEscaped(field) {
            let raw = scanner.raw(field)
            if roster.id(last, is: raw) { return last }
            if roster.id(last + 1, is: raw) {
                last += 1
                return last
            }
        }
        guard let p = scanner.isEscaped(field) ? roster[id: scanner.string(field)] : roster[bytes: scanner.raw(field)] else { return nil }
        last = p
        return p
    }

    /// The patient, date and concept that every dated clinical row starts with; nil once the
    /// row's problem is recorded.
    @inline(__always)
    private mutating func datedConcept(
        _ scanner: borrowing CSVScanner, file: String, columns: (id: Int, date: Int, code: Int),
        vocabulary: String, last: inout Int32
    ) -> (patient: Int32, date: Day, concept: UInt64)? {
        let line = scanner.recordLine
        guard let p = lookup(scanner, columns.id, last: &last) else {
            problems.row(file, line: line, column: "patient_id", "unknown patient_id (not in patients.csv)")
            return nil
        }
        guard let date = Day(iso: scanner.raw(columns.date)) else {
            problems.row(file, line: line, column: "date", "not a valid date (YYYY-MM-DD)")
            return nil
        }
        guard date >= Day.earliestRecord, date <= population.dataTo else {
            problems.row(file, line: line, column: "date", "before \(Day.earliestRecord) or after the extract's data-to date \(population.dataTo)")
            return nil
        }
        guard let concept = CodeTable.parseConcept(scanner.raw(columns.code)) else {
            problems.row(file, line: line, column: "code", "not a \(vocabulary) concept id")
            return nil
        }
        return (p, date, concept)
    }

    /// An optional numeric field: NaN when empty; nil once the problem is recorded.
    @inline(__always)
    private mutating func optionalNumber(
        _ scanner: borrowing CSVScanner, _ field: Int, file: String, column: String, nonNegative: Bool = false
    ) -> Float? {
        let raw = scanner.raw(field)
        if raw.isEmpty { return .nan }
        guard let v = parseDecimal(raw), !nonNegative || v >= 0 else {
            problems.row(file, line: scanner.recordLine, column: column,
                         nonNegative ? "not a non-negative number" : "not a number")
            return nil
        }
        return Float(v)
    }

    /// Offsets from counts (exclusive prefix sum, with a final total).
    static func offsets(_ counts: [Int32]) -> [Int32] {
        var offsets = [Int32](repeating: 0, count: counts.count)
        var total: Int32 = 0
        for i in 0..<counts.count - 1 {
            offsets[i] = total
            total += counts[i]
        }
        offsets[counts.count - 1] = total
        return offsets
    }

    mutating func readRegistrations(_ bytes: UnsafeRawBufferPointer) {
        let file = "registrations.csv"
        var scanner = CSVScanner(bytes)
        guard let h = header(&scanner, file: file) else { return }
        let (cID, cStart, cEnd) = (h["patient_id"]!, h["start_date"]!, h["end_date"]!)
        var read = PatientRows<Registration>(expected: population.patientCount)
        var last: Int32 = -1
        var rows = 0
        let dataTo = population.dataTo
        while true {
            guard let ok = handle(scanner.next(), scanner, file: file, width: h.count) else { break }
            rows += 1
            guard ok else { continue }
            let line = scanner.recordLine
            guard let p = lookup(scanner, cID, last: &last) else {
                problems.row(file, line: line, column: "patient_id", "unknown patient_id (not in patients.csv)")
                continue
            }
            guard let start = Day(iso: scanner.raw(cStart)) else {
                problems.row(file, line: line, column: "start_date", "not a valid date (YYYY-MM-DD)")
                continue
            }
            guard start >= Day.earliestRecord, start <= dataTo else {
                problems.row(file, line: line, column: "start_date", "before \(Day.earliestRecord) or after the extract's data-to date \(dataTo)")
                continue
            }
            var end = Day.distantFuture
            let endBytes = scanner.raw(cEnd)
            if !endBytes.isEmpty {
                guard let e = Day(iso: endBytes) else {
                    problems.row(file, line: line, column: "end_date", "not a valid date (YYYY-MM-DD)")
                    continue
                }
                guard e >= start else {
                    problems.row(file, line: line, column: "end_date", "before the start date")
                    continue
                }
                end = e
            }
            read.append(Registration(start: start, end: end), patient: p, line: line)
        }
        rowCounts[file] = rows
        var (placed, lines, offsets, fill) = read.grouped(patientCount: population.patientCount)
        // A period repeated for the same patient: the first row is kept.
        var duplicates: [Int32] = []
        for p in 0..<population.patientCount where fill[p] > 1 {
            let base = Int(offsets[p])
            var k = 1
            for i in base + 1..<base + Int(fill[p]) {
                if placed[base..<base + k].contains(placed[i]) {
                    duplicates.append(lines[i])
                } else {
                    placed[base + k] = placed[i]
                    k += 1
                }
            }
            fill[p] = Int32(k)
        }
        for line in duplicates.sorted() { problems.row(file, line: Int(line), "duplicate registration period (first row kept)") }
        population.registrations = compactGroups(placed, offsets: &offsets, fill: fill) { $0.start < $1.start }
        population.registrationOffsets = offsets
    }

    mutating func readEvents(_ bytes: UnsafeRawBufferPointer) {
        let file = "events.csv"
        var scanner = CSVScanner(bytes)
        guard let h = header(&scanner, file: file) else { return }
        let (cID, cDate, cCode, cV1, cV2) = (h["patient_id"]!, h["date"]!, h["code"]!, h["value"]!, h["value2"]!)
        var read = PatientRows<Event>(expected: bytes.count / 32)
        var last: Int32 = -1
        var rows = 0
        while true {
            guard let ok = handle(scanner.next(), scanner, file: file, width: h.count) else { break }
            rows += 1
            guard ok else { continue }
            let line = scanner.recordLine
            guard let row = datedConcept(
                scanner, file: file, columns: (cID, cDate, cCode), vocabulary: "SNOMED CT", last: &last),
                let value = optionalNumber(scanner, cV1, file: file, column: "value"),
                let value2 = optionalNumber(scanner, cV2, file: file, column: "value2")
            else { continue }
            read.append(Event(date: row.date, code: population.codes.intern(row.concept), value: value, value2: value2),
                        patient: row.patient, line: line)
        }
        rowCounts[file] = rows
        var (placed, lines, offsets, fill) = read.grouped(patientCount: population.patientCount)
        for (line, first) in removeDuplicateEvents(&placed, lines: lines, offsets: offsets, fill: &fill) {
            problems.row(file, line: Int(line), "duplicate of line \(first) (first row kept)")
        }
        population.events = compactGroups(placed, offsets: &offsets, fill: fill) { $0.date < $1.date }
        population.eventOffsets = offsets
    }

    mutating func readMedications(_ bytes: UnsafeRawBufferPointer) {
        let file = "medications.csv"
        var scanner = CSVScanner(bytes)
        guard let h = header(&scanner, file: file) else { return }
        let (cID, cDate, cCode, cQty) = (h["patient_id"]!, h["date"]!, h["code"]!, h["quantity"]!)
        var read = PatientRows<Medication>(expected: bytes.count / 32)
        var last: Int32 = -1
        var rows = 0
        while true {
            guard let ok = handle(scanner.next(), scanner, file: file, width: h.count) else { break }
            rows += 1
            guard ok else { continue }
            let line = scanner.recordLine
            guard let row = datedConcept(
                scanner, file: file, columns: (cID, cDate, cCode), vocabulary: "dm+d", last: &last),
                let quantity = optionalNumber(scanner, cQty, file: file, column: "quantity", nonNegative: true)
            else { continue }
            read.append(Medication(date: row.date, code: population.codes.intern(row.concept), quantity: quantity),
                        patient: row.patient, line: line)
        }
        rowCounts[file] = rows
        var (placed, _, offsets, fill) = read.grouped(patientCount: population.patientCount)
        population.medications = compactGroups(placed, offsets: &offsets, fill: fill) { $0.date < $1.date }
        population.medicationOffsets = offsets
    }
}
