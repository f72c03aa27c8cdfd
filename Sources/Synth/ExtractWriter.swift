import Clinical
import Extracts
import Foundation

/// Writes generated patients as a `qofd-extract/1` directory in either encoding: data files first,
/// then `manifest.json` (with each file's row count and SHA-256) last, as a real exporter does.
struct ExtractWriter {
    let encoding: Manifest.Encoding

    func write(
        _ patients: [SynthPatient], practice: PracticeInfo, dataTo: Day, system: String, to directory: URL
    ) throws -> Manifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files: [(String, [UInt8], Int)] = encoding == .csv ? csv(patients) : fhir(patients, practice: practice)
        var entries: [Manifest.File] = []
        for (name, bytes, rows) in files {
            let data = Data(bytes)
            try data.write(to: directory.appending(path: name), options: .atomic)
            entries.append(Manifest.File(name: name, rows: rows, sha256: sha256Hex(data)))
        }
        let manifest = Manifest(
            encoding: encoding, practice: .init(ods: practice.ods, name: practice.name),
            pcn: practice.pcnODS.map { .init(ods: $0, name: practice.pcnName ?? $0) }, system: system,
            extractedAt: "\(dataTo.adding(days: 1))T01:00:00Z", dataTo: dataTo.description, files: entries)
        try manifest.encoded().write(to: directory.appending(path: Manifest.fileName), options: .atomic)
        return manifest
    }

    // MARK: CSV

    private func csv(_ patients: [SynthPatient]) -> [(String, [UInt8], Int)] {
        var pat = Array("patient_id,nhs_number,date_of_birth,sex,date_of_death,lsoa,ethnicity\n".utf8)
        var reg = Array("patient_id,start_date,end_date\n".utf8)
        var ev = Array("patient_id,date,code,value,value2,unit\n".utf8)
        var med = Array("patient_id,date,code,quantity\n".utf8)
        var counts = (0, 0, 0, 0)
        for p in patients {
            pat += Array("\(p.id),\(p.nhsNumber ?? ""),\(p.birth),\(p.sex.letter),\(p.death.map { "\($0)" } ?? ""),\(p.lsoa ?? ""),\(p.ethnicity.map { "\($0)" } ?? "")\n".utf8)
            counts.0 += 1
            for r in p.registrations {
                reg += Array("\(p.id),\(r.start),\(r.end.map { "\($0)" } ?? "")\n".utf8)
                counts.1 += 1
            }
            for e in p.events.sorted(by: { $0.date < $1.date }) {
                ev += Array("\(p.id),\(e.date),\(e.code),\(number(e.value)),\(number(e.value2)),\(e.unit ?? "")\n".utf8)
                counts.2 += 1
            }
            for m in p.medications.sorted(by: { $0.date < $1.date }) {
                med += Array("\(p.id),\(m.date),\(m.code),\(number(m.quantity))\n".utf8)
                counts.3 += 1
            }
        }
        return [
            ("patients.csv", pat, counts.0), ("registrations.csv", reg, counts.1), ("events.csv", ev, counts.2),
            ("medications.csv", med, counts.3),
        ]
    }

    private func number(_ v: Double?) -> String {
        guard let v else { return "" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
        return String(v)
    }

    // MARK: FHIR

    private func json(_ object: [String: Any]) -> [UInt8] {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Array(data) + [10]
    }

    private func codeable(_ system: String, _ code: UInt64) -> [String: Any] {
        ["coding": [["system": system, "code": String(code)]]]
    }

    private func fhir(_ patients: [SynthPatient], practice: PracticeInfo) -> [(String, [UInt8], Int)] {
        let sct = "http://snomed.info/sct"
        var out: [String: ([UInt8], Int)] = [:]
        func emit(_ type: String, _ object: [String: Any]) {
            var o = object
            o["resourceType"] = type
            out["\(type).ndjson", default: ([], 0)].0 += json(o)
            out["\(type).ndjson", default: ([], 0)].1 += 1
        }
        var orgs: [[String: Any]] = [[
            "id": practice.ods, "name": practice.name,
            "identifier": [["system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": practice.ods]],
        ]]
        if let pcn = practice.pcnODS {
            orgs.append([
                "id": pcn, "name": practice.pcnName ?? pcn,
                "identifier": [["system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": pcn]],
            ])
        }
        for o in orgs { emit("Organization", o) }
        var serial = 0
        func nextID() -> String {
            serial += 1
            return "r\(serial)"
        }
        for p in patients {
            var patient: [String: Any] = [
                "id": p.id, "birthDate": p.birth.description,
                "gender": p.sex == .male ? "male" : p.sex == .female ? "female" : p.sex == .indeterminate ? "other" : "unknown",
            ]
            if let nhs = p.nhsNumber { patient["identifier"] = [["system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs]] }
            if let death = p.death { patient["deceasedDateTime"] = death.description }
            if let lsoa = p.lsoa { patient["address"] = [["extension": [["url": "urn:qofd:fhir:lsoa", "valueString": lsoa]]]] }
            if let eth = p.ethnicity {
                patient["extension"] = [[
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
                    "valueCodeableConcept": codeable(sct, eth),
                ]]
            }
            emit("Patient", patient)
            let subject: [String: Any] = ["reference": "Patient/\(p.id)"]
            for r in p.registrations {
                var period: [String: Any] = ["start": r.start.description]
                if let end = r.end { period["end"] = end.description }
                emit("EpisodeOfCare", ["id": nextID(), "status": r.end == nil ? "active" : "finished", "patient": subject, "period": period])
            }
            for e in p.events.sorted(by: { $0.date < $1.date }) {
                switch e.kind {
                case .condition:
                    emit("Condition", ["id": nextID(), "subject": subject, "code": codeable(sct, e.code), "onsetDateTime": e.date.description])
                case .procedure:
                    emit("Procedure", ["id": nextID(), "status": "completed", "subject": subject, "code": codeable(sct, e.code),
                                       "performedDateTime": e.date.description])
                case .immunization:
                    emit("Immunization", ["id": nextID(), "status": "completed", "patient": subject,
                                          "vaccineCode": codeable(sct, e.code), "occurrenceDateTime": e.date.description])
                case .observation:
                    var o: [String: Any] = ["id": nextID(), "status": "final", "subject": subject, "code": codeable(sct, e.code),
                                            "effectiveDateTime": e.date.description]
                    if let v2 = e.value2, let v = e.value {
                        o["component"] = [
                            ["code": codeable(sct, 271649006), "valueQuantity": ["value": v, "unit": e.unit ?? ""]],
                            ["code": codeable(sct, 271650006), "valueQuantity": ["value": v2, "unit": e.unit ?? ""]],
                        ]
                    } else if let v = e.value {
                        o["valueQuantity"] = ["value": v, "unit": e.unit ?? ""]
                    }
                    emit("Observation", o)
                }
            }
            for m in p.medications.sorted(by: { $0.date < $1.date }) {
                emit("MedicationRequest", [
                    "id": nextID(), "status": "completed", "intent": "order", "subject": subject,
                    "medicationCodeableConcept": codeable("https://dmd.nhs.uk", m.code), "authoredOn": m.date.description,
                    "dispenseRequest": ["quantity": ["value": m.quantity]],
                ])
            }
        }
        return out.keys.sorted().map { ($0, out[$0]!.0, out[$0]!.1) }
    }
}
