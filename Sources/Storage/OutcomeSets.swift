import Crypto
import Foundation
import Postgres
import RulesEngine

/// Patient-level outcomes as stored: an extract's patients once (its roster), and each run's outcome sets
/// as positions in it, so a year of weekly runs over five rulesets does not repeat every identifier in
/// every run. A run whose patients are not an extract's roster (no extract, or a roster that differs)
/// keeps its sets as text identifiers, as before; the `patient_outcome` view reads both.
extension RunStore {
    /// Writes the run's outcome sets. Patients a rule without a CQRS field leaves out (not in a flu cohort's
    /// age band, say) are, like those not on the register, outside the indicator and not stored; every
    /// counted outcome is. At most `patientsPerSet` patients per row, so no value is ever oversized.
    static func storeOutcomeSets(_ r: PracticeResult, runID: Int64, extractID: Int64?, in conn: isolated PostgresConnection) throws {
        guard let outcomeSets = r.outcomeSets else { return }
        let ids = r.patientIDs
        let positions = try extractID.map { try roster(of: $0, is: ids, in: conn) } ?? false
        try conn.copyInBinary(table: "patient_outcome_set", columns: ["run_id", "indicator_id", "outcome", "rule", "field_name", "patients", "positions"]) { w in
            for set in outcomeSets where set.outcome != .notInRegister && !(set.outcome == .excluded && set.field == nil) {
                for start in stride(from: 0, to: set.members.count, by: patientsPerSet) {
                    let members = set.members[start..<min(start + patientsPerSet, set.members.count)]
                    try w.beginRow(fields: 7)
                    try w.append(int8: runID)
                    try w.append(set.indicator)
                    try w.append(set.outcome.rawValue)
                    try w.append(set.rule)
                    try w.append(set.field)
                    if positions {
                        try w.appendNull()
                        try w.appendInt4Array(members)
                    } else {
                        try w.appendTextArray(ids, rows: members)
                        try w.appendNull()
                    }
                }
            }
        }
    }

    /// Stores the extract's roster the first time one of its runs is stored; true when `ids` is that roster
    /// (the same identifiers in the same order), so the run's sets can be stored as positions in it.
    static func roster(of extractID: Int64, is ids: [String], in conn: isolated PostgresConnection) throws -> Bool {
        let fingerprint = rosterFingerprint(ids)
        if let row = try conn.query("SELECT fingerprint FROM extract_roster WHERE extract_id = \(extractID)").first {
            return try row.decode(0, as: String.self) == fingerprint
        }
        try conn.copyInBinary(table: "extract_roster", columns: ["extract_id", "patient_count", "fingerprint", "patients"]) { w in
            try w.beginRow(fields: 4)
            try w.append(int8: extractID)
            try w.append(int4: Int32(ids.count))
            try w.append(fingerprint)
            try w.appendTextArray(ids)
        }
        return true
    }

    /// SHA-256 of the identifiers in order, one per line.
    static func rosterFingerprint(_ ids: [String]) -> String {
        var hash = SHA256()
        for id in ids {
            hash.update(data: Data(id.utf8))
            hash.update(data: Data([10]))
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// SHA-256 over every figure a run stores and its reports show (list size, registers, each indicator's
    /// counts, fields, funnel, points, pounds and completeness; the run's totals): two runs with the same
    /// fingerprint have the same reports apart from their dates.
    static func figuresFingerprint(_ run: RunRecord, lastYearPounds: Double?, aspiration: Double?) -> String {
        let r = run.result
        var text = "list \(r.listSize)\n"
        for reg in r.registers { text += "register \(reg.id) \(reg.size)\n" }
        let paid = Dictionary((run.payment?.indicators ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for i in r.indicators {
            text += "indicator \(i.id) \(i.registerSize) \(i.denominator) \(i.numerator) \(i.achievement.map(format4) ?? "-") \(format4(i.points))"
            text += " \(i.completeness.status.rawValue) \(i.completeness.computable) \(i.completeness.missing) \(i.completeness.standIns)\n"
            for (field, value) in i.fields.sorted(by: { $0.key < $1.key }) { text += "  field \(field) \(value)\n" }
            for c in i.ruleCounts { text += "  rule \(c.chain) \(c.rule) \(c.action) \(c.field ?? "-") \(c.count)\n" }
            if let p = paid[i.id] {
                text += "  paid \(format4(p.points)) \(money(p.pounds)) \(money(p.poundsAvailable)) \(money(p.poundsAtStake)) \(p.patientsForNextPoint ?? -1)\n"
            }
        }
        if let p = run.payment {
            text += "totals \(p.year) \(format4(p.pointsAchieved)) \(format4(p.pointsAvailable)) \(money(p.pounds)) \(money(p.poundsAvailable))"
            text += " \(money(p.poundsAtStake)) \(money(p.poundsNotAssessed)) \(p.unverifiedFigures)\n"
        }
        text += "last year \(lastYearPounds.map(money) ?? "-") aspiration \(aspiration.map(money) ?? "-")\n"
        return SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A run's patient outcomes as stored, read back for the web view's worklists and breakdowns: the figures'
/// own patients, not a re-evaluation.
public enum StoredOutcomes {
    /// One stored set: its patients as positions in the extract's roster, or (older runs, runs without an
    /// extract) as identifiers.
    public struct OutcomeSet: Sendable {
        public var indicator: String
        public var outcome: Outcome
        public var rule: String?
        public var field: String?
        public var positions: [Int32]?
        public var patients: [String]?

        public init(indicator: String, outcome: Outcome, rule: String?, field: String?, positions: [Int32]?, patients: [String]?) {
            self.indicator = indicator
            self.outcome = outcome
            self.rule = rule
            self.field = field
            self.positions = positions
            self.patients = patients
        }
    }

    /// The run's sets and, when any are positions, the fingerprint of the roster they point into (nil sets when
    /// none were stored: patient outcomes off, or past retention).
    public static func load(run: Int64, in conn: isolated PostgresConnection) throws -> (rosterFingerprint: String?, sets: [OutcomeSet])? {
        let rows = try conn.query(
            """
            SELECT indicator_id, outcome, rule, field_name, array_to_string(positions, ','), array_to_json(patients)::text
            FROM patient_outcome_set WHERE run_id = \(run)
            """)
        guard !rows.isEmpty else { return nil }
        var sets: [OutcomeSet] = []
        for row in rows {
            guard let outcome = Outcome(rawValue: try row.decode(1, as: String.self)) else { continue }
            let positions = try row.decode(4, as: String?.self).map(parsePositions)
            let patients = try row.decode(5, as: String?.self).map { StoredFigures.strings($0) }
            sets.append(OutcomeSet(indicator: try row.decode(0), outcome: outcome, rule: try row.decode(2), field: try row.decode(3),
                                   positions: positions, patients: patients))
        }
        let fingerprint = try conn.query(
            "SELECT r.fingerprint FROM extract_roster r JOIN computation_run c ON c.extract_id = r.extract_id WHERE c.id = \(run)"
        ).first.map { try $0.decode(0, as: String.self) }
        return (fingerprint, sets)
    }

    /// The fingerprint a roster of these identifiers has (to check that a re-read extract is the stored one).
    public static func fingerprint(_ ids: [String]) -> String { RunStore.rosterFingerprint(ids) }

    /// "3,17,250" as positions, by hand (a large practice's sets hold tens of thousands).
    static func parsePositions(_ text: String) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 4)
        var current: Int32 = 0
        var inNumber = false, negative = false
        for b in text.utf8 {
            if b >= 48 && b <= 57 {
                current = current &* 10 &+ Int32(b - 48)
                inNumber = true
            } else if b == 45 {  // "-": the population arrays' "none"
                negative = true
            } else if inNumber {
                out.append(negative ? -current : current)
                current = 0
                inNumber = false
                negative = false
            }
        }
        if inNumber { out.append(negative ? -current : current) }
        return out
    }
}
