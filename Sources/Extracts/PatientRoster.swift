import Clinical
import Foundation

/// The patients an extract reader has accepted so far. Both readers (CSV and FHIR) add patients
/// through it, so the population's per-patient columns and its LSOA table are built one way.
///
/// Ids are found by their bytes (no `String` made per row): every accepted id's UTF-8 bytes are kept end
/// to end, with an open-addressing table over them.
struct PatientRoster {
    /// Every accepted id's bytes end to end; patient p's end at `idEnds[p]`.
    private var idBytes: [UInt8] = []
    private var idEnds: [Int] = []
    /// Patient index per slot (-1 empty); a power of two long, at most half full.
    private var slots = [Int32](repeating: -1, count: 1024)
    /// LSOA codes by their six digits, interned in the order first seen (= `population.lsoaCodes`).
    private var lsoaTable = CodeTable()

    /// The patient index of an accepted id.
    subscript(id id: String) -> Int32? {
        var id = id
        return id.withUTF8 { self[bytes: UnsafeRawBufferPointer($0)] }
    }

    /// The patient index of an accepted id given as UTF-8 bytes.
    subscript(bytes raw: UnsafeRawBufferPointer) -> Int32? {
        guard !raw.isEmpty else { return nil }
        var i = Self.hash(raw) & (slots.count - 1)
        while true {
            let p = slots[i]
            if p < 0 { return nil }
            if id(p, is: raw) { return p }
            i = (i + 1) & (slots.count - 1)
        }
    }

    /// True when patient `p` exists and its id is exactly `raw`: the readers' fast path for rows grouped
    /// by patient in list order (the same patient as the last row, or the next one).
    func id(_ p: Int32, is raw: UnsafeRawBufferPointer) -> Bool {
        guard p >= 0, Int(p) < idEnds.count else { return false }
        let start = p == 0 ? 0 : idEnds[Int(p) - 1]
        let count = idEnds[Int(p)] - start
        guard count == raw.count, count > 0 else { return false }
        return idBytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, raw.baseAddress!, count) == 0 }
    }

    private static func hash(_ raw: UnsafeRawBufferPointer) -> Int {
        var h = FNV1a()
        h.combine(raw)
        return Int(truncatingIfNeeded: h.value ^ (h.value >> 29))
    }

    /// True for an English LSOA code: `E01` and six digits.
    static func isEnglishLSOA(_ code: String) -> Bool {
        var code = code
        return code.withUTF8 { lsoaNumber(UnsafeRawBufferPointer($0)) != nil }
    }

    /// The six digits of an English LSOA code (`E01` and six digits); nil for anything else.
    static func lsoaNumber(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        guard raw.count == 9, raw[0] == UInt8(ascii: "E"), raw[1] == UInt8(ascii: "0"), raw[2] == UInt8(ascii: "1") else { return nil }
        var v: UInt64 = 0
        for i in 3..<9 {
            let d = raw[i] &- 48
            guard d <= 9 else { return nil }
            v = v * 10 + UInt64(d)
        }
        return v
    }

    /// The index of a valid LSOA code (as `lsoaNumber` reads it) in `population.lsoaCodes`, adding it on
    /// first sight.
    mutating func lsoa(_ raw: UnsafeRawBufferPointer, in population: inout PopulationBuilder) -> Int32 {
        let before = lsoaTable.count
        let i = lsoaTable.intern(Self.lsoaNumber(raw)!)
        if lsoaTable.count > before { population.lsoaCodes.append(String(decoding: raw, as: UTF8.self)) }
        return i
    }

    /// The same, for a code held as a String.
    mutating func lsoa(_ code: String, in population: inout PopulationBuilder) -> Int32 {
        var code = code
        return code.withUTF8 { lsoa(UnsafeRawBufferPointer($0), in: &population) }
    }

    /// Appends one validated patient (whose id is not yet on the roster) to every per-patient column.
    mutating func add(
        _ id: String, nhs: UInt64, born: Day, sex: Sex, died: Day, lsoa: Int32, ethnicity: Int32,
        to population: inout PopulationBuilder
    ) {
        let p = Int32(population.patientIDs.count)
        idBytes.append(contentsOf: id.utf8)
        idEnds.append(idBytes.count)
        if idEnds.count * 2 > slots.count { rehash(slots.count * 2) } else { place(p) }
        population.patientIDs.append(id)
        population.nhsNumbers.append(nhs)
        population.birthDates.append(born)
        population.sexes.append(sex)
        population.deathDates.append(died)
        population.lsoa.append(lsoa)
        population.ethnicity.append(ethnicity)
    }

    private mutating func place(_ p: Int32) {
        let start = p == 0 ? 0 : idEnds[Int(p) - 1]
        let count = idEnds[Int(p)] - start
        var i = idBytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) } & (slots.count - 1)
        while slots[i] >= 0 { i = (i + 1) & (slots.count - 1) }
        slots[i] = p
    }

    private mutating func rehash(_ capacity: Int) {
        slots = [Int32](repeating: -1, count: capacity)
        for p in 0..<idEnds.count { place(Int32(p)) }
    }
}
