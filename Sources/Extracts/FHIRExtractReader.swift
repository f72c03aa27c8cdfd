import Clinical
import Foundation

/// Reads an extract written as FHIR R4 bulk-data NDJSON (one resource per line) into the same
/// `Population` the CSV reader builds. The mapping is documented in `deploy/extract-format.md`.
struct FHIRExtractReader {
    static let snomed = "http://snomed.info/sct"
    static let dmd = "https://dmd.nhs.uk"
    static let nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
    static let odsSystem = "https://fhir.nhs.uk/Id/ods-organization-code"
    static let ethnicityExtension = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
    static let lsoaExtension = "urn:qofd:fhir:lsoa"
    static let systolicCodes: Set<String> = ["271649006", "72313002", "407554009", "413606001", "198081000000101"]
    static let diastolicCodes: Set<String> = ["271650006", "1091811000000102", "407555005", "413605002", "198091000000104"]

    var population: PopulationBuilder
    var problems: ProblemLog
    var rowCounts: [String: Int] = [:]
    private var roster = PatientRoster()

    init(population: PopulationBuilder, problems: ProblemLog) {
        self.population = population
        self.problems = problems
    }

    /// The files clinical events come from, in the order they are read.
    static let eventFiles = [
        ("Condition.ndjson", "Condition"), ("Observation.ndjson", "Observation"), ("Procedure.ndjson", "Procedure"),
        ("Immunization.ndjson", "Immunization"),
    ]

    mutating func read(_ files: [String: Data]) {
        if let data = files["Patient.ndjson"] {
            for (json, line) in records(data, file: "Patient.ndjson") { readPatient(json, line) }
        }
        var registrations: [(Int32, Registration)] = []
        if let data = files["EpisodeOfCare.ndjson"] {
            // Identical registration periods are duplicates, as in CSV: reported at their own line.
            var firstLine: [String: Int] = [:]
            for (json, line) in records(data, file: "EpisodeOfCare.ndjson") {
                guard let r = readEpisode(json, line) else { continue }
                let key = "\(r.0)/\(r.1.start.daysSinceEpoch)/\(r.1.end.daysSinceEpoch)"
                if let first = firstLine[key] {
                    problems.row("EpisodeOfCare.ndjson", line: line, "duplicate registration period of line \(first) (first kept)")
                    continue
                }
                firstLine[key] = line
                registrations.append(r)
            }
        }
        var events: [(Int32, Event, Int32)] = []
        for (fileIndex, (name, kind)) in Self.eventFiles.enumerated() {
            guard let data = files[name] else { continue }
            for (json, line) in records(data, file: name) {
                // The file travels with the line (two bits above it), so a duplicate names its own file and line.
                if let e = readEvent(json, kind: kind, file: name, line) { events.append((e.0, e.1, Int32(fileIndex) << 28 | Int32(min(line, 1 << 28 - 1)))) }
            }
        }
        var medications: [(Int32, Medication)] = []
        if let data = files["MedicationRequest.ndjson"] {
            for (json, line) in records(data, file: "MedicationRequest.ndjson") {
                if let m = readMedication(json, line) { medications.append(m) }
            }
        }
        if let data = files["Organization.ndjson"] {
            for (json, line) in records(data, file: "Organization.ndjson") { checkOrganisation(json, line) }
        }
        place(registrations, events, medications)
    }

    // MARK: Records

    /// The JSON objects of one NDJSON file with their record numbers; bad lines are reported.
    private mutating func records(_ data: Data, file: String) -> [([String: Any], Int)] {
        var out: [([String: Any], Int)] = []
        var records = 0
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = 0
            var line = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                line += 1
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                start = end + 1
                if slice.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
                records += 1
                let json = try? JSONSerialization.jsonObject(with: Data(slice))
                guard let object = json as? [String: Any] else {
                    problems.row(file, line: line, "not a JSON object")
                    continue
                }
                let expected = String(file.dropLast(".ndjson".count))
                guard object["resourceType"] as? String == expected else {
                    problems.row(file, line: line, column: "resourceType", "expected \(expected)")
                    continue
                }
                out.append((object, line))
            }
        }
        rowCounts[file] = records
        return out
    }

    private static func date(_ value: Any?) -> Day? {
        guard let text = value as? String, text.utf8.count >= 10 else { return nil }
        var t = text
        return t.withUTF8 { Day(iso: UnsafeRawBufferPointer($0), allowTime: true) }
    }

    private static func code(_ concept: Any?, system: String) -> (UInt64?, Bool) {
        guard let codings = (concept as? [String: Any])?["coding"] as? [[String: Any]] else { return (nil, false) }
        for c in codings where c["system"] as? String == system {
            guard var text = c["code"] as? String else { return (nil, true) }
            return (text.withUTF8 { CodeTable.parseConcept(UnsafeRawBufferPointer($0)) }, true)
        }
        return (nil, false)
    }

    private func patientRef(_ value: Any?) -> Int32? {
        guard let ref = (value as? [String: Any])?["reference"] as? String, ref.hasPrefix("Patient/") else { return nil }
        return roster[id: String(ref.dropFirst("Patient/".count))]
    }

    private mutating func readPatient(_ json: [String: Any], _ line: Int) {
        let file = "Patient.ndjson"
        guard let id = json["id"] as? String, !id.isEmpty, id.utf8.count <= 64 else {
            problems.row(file, line: line, column: "id", "patient id is missing or longer than 64 characters")
            return
        }
        guard roster[id: id] == nil else {
            problems.row(file, line: line, column: "id", "duplicate patient id (first record kept)")
            return
        }
        var nhs: UInt64 = 0
        for identifier in json["identifier"] as? [[String: Any]] ?? [] where identifier["system"] as? String == Self.nhsNumberSystem {
            let value = identifier["value"] as? String ?? ""
            guard NHSNumber.isValid(value) else {
                problems.row(file, line: line, column: "identifier", "not a valid NHS number (Modulus 11 check failed)")
                return
            }
            nhs = UInt64(value) ?? 0
        }
        guard let birth = json["birthDate"] as? String, birth.count == 10, let dob = Day(iso: birth) else {
            problems.row(file, line: line, column: "birthDate", "not a valid date (YYYY-MM-DD)")
            return
        }
        guard dob >= Day.earliestRecord, dob <= population.dataTo else {
            problems.row(file, line: line, column: "birthDate", "before \(Day.earliestRecord) or after the extract's data-to date \(population.dataTo)")
            return
        }
        let sex: Sex
        switch json["gender"] as? String {
        case "male": sex = .male
        case "female": sex = .female
        case "other": sex = .indeterminate
        case "unknown", nil: sex = .unknown
        default:
            problems.row(file, line: line, column: "gender", "must be male, female, other or unknown")
            return
        }
        var death = Day.distantFuture
        if let deceased = json["deceasedDateTime"] {
            guard let d = Self.date(deceased), d >= dob, d <= population.dataTo else {
                problems.row(file, line: line, column: "deceasedDateTime", "not a valid date between birth and the data-to date")
                return
            }
            death = d
        }
        var lsoa: Int32 = -1
        for address in json["address"] as? [[String: Any]] ?? [] {
            for ext in address["extension"] as? [[String: Any]] ?? [] where ext["url"] as? String == Self.lsoaExtension {
                let code = ext["valueString"] as? String ?? ""
                guard PatientRoster.isEnglishLSOA(code) else {
                    problems.row(file, line: line, column: "address.extension", "not an English LSOA code (E01 and 6 digits)")
                    return
                }
                lsoa = roster.lsoa(code, in: &population)
            }
        }
        var ethnicity: Int32 = -1
        for ext in json["extension"] as? [[String: Any]] ?? [] where ext["url"] as? String == Self.ethnicityExtension {
            let (concept, present) = Self.code(ext["valueCodeableConcept"], system: Self.snomed)
            guard let concept, present else {
                problems.row(file, line: line, column: "extension", "ethnic category is not a SNOMED CT concept id")
                return
            }
            ethnicity = population.codes.intern(concept)
        }
        roster.add(id, nhs: nhs, born: dob, sex: sex, died: death, lsoa: lsoa, ethnicity: ethnicity, to: &population)
    }

    private mutating func readEpisode(_ json: [String: Any], _ line: Int) -> (Int32, Registration)? {
        let file = "EpisodeOfCare.ndjson"
        guard let p = patientRef(json["patient"]) else {
            problems.row(file, line: line, column: "patient", "unknown patient (not in Patient.ndjson)")
            return nil
        }
        let period = json["period"] as? [String: Any] ?? [:]
        guard let start = Self.date(period["start"]), start >= Day.earliestRecord, start <= population.dataTo else {
            problems.row(file, line: line, column: "period.start", "missing, not a valid date, before \(Day.earliestRecord) or after the data-to date")
            return nil
        }
        var end = Day.distantFuture
        if period["end"] != nil {
            guard let e = Self.date(period["end"]), e >= start else {
                problems.row(file, line: line, column: "period.end", "not a valid date on or after the start")
                return nil
            }
            end = e
        }
        return (p, Registration(start: start, end: end))
    }

    private mutating func readEvent(_ json: [String: Any], kind: String, file: String, _ line: Int) -> (Int32, Event)? {
        let (subjectKey, codeKey, dateKeys): (String, String, [String]) = switch kind {
        case "Immunization": ("patient", "vaccineCode", ["occurrenceDateTime"])
        case "Condition": ("subject", "code", ["onsetDateTime", "recordedDate"])
        case "Procedure": ("subject", "code", ["performedDateTime"])
        default: ("subject", "code", ["effectiveDateTime"])
        }
        guard let p = patientRef(json[subjectKey]) else {
            problems.row(file, line: line, column: subjectKey, "unknown patient (not in Patient.ndjson)")
            return nil
        }
        guard let dateKey = dateKeys.first(where: { json[$0] != nil }), let date = Self.date(json[dateKey]) else {
            problems.row(file, line: line, column: dateKeys[0], "missing or not a valid date")
            return nil
        }
        guard date >= Day.earliestRecord, date <= population.dataTo else {
            problems.row(file, line: line, column: dateKey, "before \(Day.earliestRecord) or after the extract's data-to date \(population.dataTo)")
            return nil
        }
        guard case (let concept?, true) = Self.code(json[codeKey], system: Self.snomed) else {
            problems.row(file, line: line, column: codeKey, "no SNOMED CT concept id")
            return nil
        }
        var value: Float = .nan
        var value2: Float = .nan
        if let quantity = json["valueQuantity"] as? [String: Any] {
            guard let v = quantity["value"] as? NSNumber else {
                problems.row(file, line: line, column: "valueQuantity.value", "not a number")
                return nil
            }
            value = v.floatValue
        }
        if let components = json["component"] as? [[String: Any]] {
            for (i, component) in components.enumerated() {
                let codes = ((component["code"] as? [String: Any])?["coding"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
                guard let v = (component["valueQuantity"] as? [String: Any])?["value"] as? NSNumber else {
                    problems.row(file, line: line, column: "component[\(i)].valueQuantity.value", "not a number")
                    return nil
                }
                if codes.contains(where: Self.diastolicCodes.contains) || (i == 1 && !codes.contains(where: Self.systolicCodes.contains)) {
                    value2 = v.floatValue
                } else {
                    value = v.floatValue
                }
            }
        }
        return (p, Event(date: date, code: population.codes.intern(concept), value: value, value2: value2))
    }

    private mutating func readMedication(_ json: [String: Any], _ line: Int) -> (Int32, Medication)? {
        let file = "MedicationRequest.ndjson"
        guard let p = patientRef(json["subject"]) else {
            problems.row(file, line: line, column: "subject", "unknown patient (not in Patient.ndjson)")
            return nil
        }
        guard let date = Self.date(json["authoredOn"]), date >= Day.earliestRecord, date <= population.dataTo else {
            problems.row(file, line: line, column: "authoredOn", "missing, not a valid date, before \(Day.earliestRecord) or after the data-to date")
            return nil
        }
        guard case (let concept?, true) = Self.code(json["medicationCodeableConcept"], system: Self.dmd) else {
            problems.row(file, line: line, column: "medicationCodeableConcept", "no dm+d concept id")
            return nil
        }
        var quantity: Float = .nan
        if let q = ((json["dispenseRequest"] as? [String: Any])?["quantity"] as? [String: Any])?["value"] {
            guard let n = q as? NSNumber, n.doubleValue >= 0 else {
                problems.row(file, line: line, column: "dispenseRequest.quantity.value", "not a non-negative number")
                return nil
            }
            quantity = n.floatValue
        }
        return (p, Medication(date: date, code: population.codes.intern(concept), quantity: quantity))
    }

    private mutating func checkOrganisation(_ json: [String: Any], _ line: Int) {
        let codes = (json["identifier"] as? [[String: Any]] ?? []).filter { $0["system"] as? String == Self.odsSystem }
            .compactMap { $0["value"] as? String }
        let known = [population.practice.ods, population.practice.pcnODS].compactMap { $0 }
        if let code = codes.first, !known.contains(code) {
            problems.file("Organization.ndjson", line: line, column: "identifier", "organisation \(code) does not match the manifest")
        }
    }

    // MARK: Grouping

    private mutating func place(
        _ registrations: [(Int32, Registration)], _ events: [(Int32, Event, Int32)], _ medications: [(Int32, Medication)]
    ) {
        let n = population.patientCount
        func group<T>(_ items: [(Int32, T)], empty: T) -> ([Int32], [T], [Int32]) {
            var counts = [Int32](repeating: 0, count: n + 1)
            for (p, _) in items { counts[Int(p)] += 1 }
            let offsets = CSVExtractReader.offsets(counts)
            var fill = [Int32](repeating: 0, count: n)
            var placed = [T](repeating: empty, count: items.count)
            for (p, item) in items {
                placed[Int(offsets[Int(p)] + fill[Int(p)])] = item
                fill[Int(p)] += 1
            }
            return (offsets, placed, fill)
        }
        var (rOffsets, rPlaced, rFill) = group(registrations, empty: Registration(start: .distantPast))
        population.registrations = compactGroups(rPlaced, offsets: &rOffsets, fill: rFill) { $0.start < $1.start }
        population.registrationOffsets = rOffsets

        var (eOffsets, ePlaced, eFill) = group(events.map { ($0.0, $0.1) }, empty: Event(date: .distantPast, code: -1))
        var lines = [Int32](repeating: 0, count: events.count)
        do {
            var fill = [Int32](repeating: 0, count: n)
            for (p, _, line) in events {
                lines[Int(eOffsets[Int(p)] + fill[Int(p)])] = line
                fill[Int(p)] += 1
            }
        }
        for (line, first) in removeDuplicateEvents(&ePlaced, lines: lines, offsets: eOffsets, fill: &eFill) {
            let (file, firstFile) = (Self.eventFiles[Int(line >> 28)].0, Self.eventFiles[Int(first >> 28)].0)
            problems.row(file, line: Int(line & (1 << 28 - 1)),
                         "duplicate of \(firstFile == file ? "line" : "\(firstFile) line") \(first & (1 << 28 - 1)) (first kept)")
        }
        population.events = compactGroups(ePlaced, offsets: &eOffsets, fill: eFill) { $0.date < $1.date }
        population.eventOffsets = eOffsets

        var (mOffsets, mPlaced, mFill) = group(medications, empty: Medication(date: .distantPast, code: -1))
        population.medications = compactGroups(mPlaced, offsets: &mOffsets, fill: mFill) { $0.date < $1.date }
        population.medicationOffsets = mOffsets
    }
}
