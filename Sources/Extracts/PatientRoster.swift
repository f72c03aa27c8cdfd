import Clinical
import Foundation

/// The patients an extract reader has accepted so far. Both readers (CSV and FHIR) add patients
/// through it, so the population's per-patient columns and its LSOA table are built one way.
struct PatientRoster {
    private var index: [String: Int32] = [:]
    private var lsoaIndex: [String: Int32] = [:]
    /// Every accepted id's UTF-8 bytes end to end (`idEnds[p]` is where patient p's end), so a row's id can
    /// be compared with a known patient's without making a String.
    private var idBytes: [UInt8] = []
    private var idEnds: [Int] = []

    /// The patient index of an accepted id.
    subscript(id id: String) -> Int32? { index[id] }

    /// True when patient `p` exists and its id is exactly `raw`: the readers' fast path for rows grouped
    /// by patient in list order (the same patient as the last row, or the next one).
    func id(_ p: Int32, is raw: UnsafeRawBufferPointer) -> Bool {
        guard p >= 0, Int(p) < idEnds.count else { return false }
        let start = p == 0 ? 0 : idEnds[Int(p) - 1]
        let count = idEnds[Int(p)] - start
        guard count == raw.count, count > 0 else { return false }
        return idBytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, raw.baseAddress!, count) == 0 }
    }

    /// True for an English LSOA code: `E01` and six digits.
    static func isEnglishLSOA(_ code: String) -> Bool {
        let u = Array(code.utf8)
        return u.count == 9 && code.hasPrefix("E01") && u[3...].allSatisfy { $0 &- 48 <= 9 }
    }

    /// The index of a (valid) LSOA code in `population.lsoaCodes`, adding it on first sight.
    mutating func lsoa(_ code: String, in population: inout Population) -> Int32 {
        if let i = lsoaIndex[code] { return i }
        let i = Int32(population.lsoaCodes.count)
        lsoaIndex[code] = i
        population.lsoaCodes.append(code)
        return i
    }

    /// Appends one validated patient to every per-patient column.
    mutating func add(
        _ id: String, nhs: UInt64, born: Day, sex: Sex, died: Day, lsoa: Int32, ethnicity: Int32,
        to population: inout Population
    ) {
        index[id] = Int32(population.patientIDs.count)
        idBytes.append(contentsOf: id.utf8)
        idEnds.append(idBytes.count)
        population.patientIDs.append(id)
        population.nhsNumbers.append(nhs)
        population.birthDates.append(born)
        population.sexes.append(sex)
        population.deathDates.append(died)
        population.lsoa.append(lsoa)
        population.ethnicity.append(ethnicity)
    }
}
