import Clinical
import Foundation

/// Writes a `Population` back out as a CSV extract (data files first, manifest last), e.g. to hand a
/// corrected or filtered extract on, or to prove a load loses nothing.
public enum CSVExtractWriter {
    public static func write(_ p: Population, system: String = "qofd", to directory: URL) throws -> Manifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func number(_ v: Float) -> String {
            guard !v.isNaN else { return "" }
            return v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v)
        }
        var files: [(String, String, Int)] = []
        var pat = "patient_id,nhs_number,date_of_birth,sex,date_of_death,lsoa,ethnicity\n"
        var reg = "patient_id,start_date,end_date\n"
        var ev = "patient_id,date,code,value,value2,unit\n"
        var med = "patient_id,date,code,quantity\n"
        var counts = (0, 0, 0, 0)
        for i in 0..<p.patientCount {
            let id = p.patientIDs[i].contains(",") || p.patientIDs[i].contains("\"")
                ? "\"" + p.patientIDs[i].replacingOccurrences(of: "\"", with: "\"\"") + "\"" : p.patientIDs[i]
            let nhs = p.nhsNumbers[i] == 0 ? "" : String(format: "%010llu", p.nhsNumbers[i])
            let death = p.deathDates[i] == .distantFuture ? "" : "\(p.deathDates[i])"
            let lsoa = p.lsoa[i] < 0 ? "" : p.lsoaCodes[Int(p.lsoa[i])]
            let eth = p.ethnicity[i] < 0 ? "" : "\(p.codes[p.ethnicity[i]])"
            pat += "\(id),\(nhs),\(p.birthDates[i]),\(p.sexes[i].letter),\(death),\(lsoa),\(eth)\n"
            counts.0 += 1
            for r in p.registrationRange(i) {
                let end = p.registrations[r].end == .distantFuture ? "" : "\(p.registrations[r].end)"
                reg += "\(id),\(p.registrations[r].start),\(end)\n"
                counts.1 += 1
            }
            for e in p.eventRange(i) {
                let x = p.events[e]
                ev += "\(id),\(x.date),\(p.codes[x.code]),\(number(x.value)),\(number(x.value2)),\n"
                counts.2 += 1
            }
            for m in p.medicationRange(i) {
                let x = p.medications[m]
                med += "\(id),\(x.date),\(p.codes[x.code]),\(number(x.quantity))\n"
                counts.3 += 1
            }
        }
        files = [("patients.csv", pat, counts.0), ("registrations.csv", reg, counts.1), ("events.csv", ev, counts.2),
                 ("medications.csv", med, counts.3)]
        var entries: [Manifest.File] = []
        for (name, text, rows) in files {
            let data = Data(text.utf8)
            try data.write(to: directory.appending(path: name), options: .atomic)
            entries.append(Manifest.File(name: name, rows: rows, sha256: sha256Hex(data)))
        }
        let manifest = Manifest(
            encoding: .csv, practice: .init(ods: p.practice.ods, name: p.practice.name),
            pcn: p.practice.pcnODS.map { .init(ods: $0, name: p.practice.pcnName ?? $0) }, system: system,
            extractedAt: "\(p.dataTo.adding(days: 1))T01:00:00Z", dataTo: p.dataTo.description, files: entries)
        try manifest.encoded().write(to: directory.appending(path: Manifest.fileName), options: .atomic)
        return manifest
    }
}
