import Clinical
import Foundation
import Payments
import Postgres
import RulesEngine

/// One evaluation to store: which extract, ruleset and cluster versions, and what came out.
public struct RunRecord: Sendable {
    public var extractID: Int64?
    public var practice: PracticeInfo
    public var rulesetID: String
    public var rulesetSHA256: String
    public var clusterVersion: String
    public var achievementDate: Day
    public var result: PracticeResult
    public var engineVersion: String
    public var worker: String?
    /// Points and pounds, when national figures exist for the ruleset.
    public var payment: PracticePayment?

    public init(
        extractID: Int64?, practice: PracticeInfo, rulesetID: String, rulesetSHA256: String, clusterVersion: String,
        achievementDate: Day, result: PracticeResult, engineVersion: String, worker: String? = nil, payment: PracticePayment? = nil
    ) {
        self.payment = payment
        self.extractID = extractID
        self.practice = practice
        self.rulesetID = rulesetID
        self.rulesetSHA256 = rulesetSHA256
        self.clusterVersion = clusterVersion
        self.achievementDate = achievementDate
        self.result = result
        self.engineVersion = engineVersion
        self.worker = worker
    }
}

extension PostgresDate {
    /// The calendar day as a PostgreSQL `date` parameter.
    public init(_ day: Day) {
        let c = day.components
        self.init(year: c.year, month: c.month, day: c.day)
    }
}

/// Writes runs, organisations and memberships. Every function runs inside the caller's transaction
/// (the connection is isolated to it), so a run is stored whole or not at all.
public enum RunStore {
    /// Makes sure the practice and its PCN exist (a placeholder named by its code, as `qofd user add`
    /// creates, takes the extract's name) and the practice's PCN membership covers `day`.
    public static func recordOrganisations(_ practice: PracticeInfo, on day: Day, in conn: isolated PostgresConnection) throws {
        try conn.execute(
            """
            INSERT INTO organisation (ods_code, kind, name) VALUES (\(practice.ods), 'practice', \(practice.name))
            ON CONFLICT (ods_code) DO UPDATE SET name = EXCLUDED.name WHERE organisation.name = organisation.ods_code
            """)
        guard let pcn = practice.pcnODS else { return }
        try conn.execute(
            """
            INSERT INTO organisation (ods_code, kind, name) VALUES (\(pcn), 'pcn', \(practice.pcnName ?? pcn))
            ON CONFLICT (ods_code) DO UPDATE SET name = EXCLUDED.name WHERE organisation.name = organisation.ods_code
            """)
        let date = PostgresDate(day)
        let current = try conn.query(
            """
            SELECT pcn_ods, valid_from FROM pcn_membership
            WHERE practice_ods = \(practice.ods) AND valid_from <= \(date) AND (valid_to IS NULL OR valid_to >= \(date))
            """)
        if let row = current.first {
            let currentPCN = try row.decode(0, as: String.self)
            let from = try row.decode(1, as: PostgresDate.self)
            guard currentPCN != pcn else { return }
            // The practice moved PCN: close the old membership the day before and open the new one.
            guard from < date else { return }
            try conn.execute(
                """
                UPDATE pcn_membership SET valid_to = \(PostgresDate(day.adding(days: -1)))
                WHERE practice_ods = \(practice.ods) AND valid_from = \(from)
                """)
        }
        let later = try conn.query(
            "SELECT min(valid_from) FROM pcn_membership WHERE practice_ods = \(practice.ods) AND valid_from > \(date)")
        let until: PostgresDate? = try later[0].decode(0, as: PostgresDate?.self).map { d in
            PostgresDate(Day(year: d.year, month: d.month, day: d.day)!.adding(days: -1))
        }
        try conn.execute(
            """
            INSERT INTO pcn_membership (practice_ods, pcn_ods, valid_from, valid_to)
            VALUES (\(practice.ods), \(pcn), \(date), \(until))
            """)
    }

    /// Stores one run with its registers, indicator results, per-rule counts and (when present)
    /// per-patient outcomes, using COPY for the bulky parts. Returns the run id.
    @discardableResult
    public static func store(_ run: RunRecord, in conn: isolated PostgresConnection, source: String = "extract") throws -> Int64 {
        let r = run.result
        let rows = try conn.query(
            """
            INSERT INTO computation_run (extract_id, practice_ods, ruleset_id, ruleset_sha256, cluster_version,
                                         achievement_date, list_size, engine_version, worker, finished_at, source)
            VALUES (\(run.extractID), \(run.practice.ods), \(run.rulesetID), \(run.rulesetSHA256), \(run.clusterVersion),
                    \(PostgresDate(run.achievementDate)), \(r.listSize), \(run.engineVersion), \(run.worker), now(), \(source))
            RETURNING id
            """)
        let runID = try rows[0].decode(0, as: Int64.self)
        let registers = r.registers
        try conn.copyIn(table: "register_result", columns: ["run_id", "register_id", "size"]) { w in
            for reg in registers {
                try w.append(Int(runID))
                try w.append(reg.id)
                try w.append(reg.size)
                try w.endRow()
            }
        }
        let indicators = r.indicators
        // With a payment, points are stored as paid (an income-protected indicator earns last year's points,
        // which the records cannot show) beside their pounds.
        let paid = Dictionary(uniqueKeysWithValues: (run.payment?.indicators ?? []).map { ($0.id, (points: $0.points, pounds: $0.pounds)) })
        try conn.copyIn(
            table: "indicator_result",
            columns: ["run_id", "indicator_id", "register_id", "register_size", "denominator", "numerator", "achievement",
                      "points", "max_points", "pounds"]
        ) { w in
            for i in indicators {
                try w.append(Int(runID))
                try w.append(i.id)
                try w.append(i.register)
                try w.append(i.registerSize)
                try w.append(i.denominator)
                try w.append(i.numerator)
                if let a = i.achievement { try w.append(String(format4(a))) } else { try w.appendNull() }
                try w.append(format4(paid[i.id]?.points ?? i.points))
                try w.append(format4(i.maxPoints))
                if let p = paid[i.id]?.pounds { try w.append(String(format: "%.2f", p)) } else { try w.appendNull() }
                try w.endRow()
            }
        }
        try conn.copyIn(table: "rule_count", columns: ["run_id", "indicator_id", "field_name", "field_kind", "value"]) { w in
            for i in indicators {
                // Named fields (PCAs and exclusions, as CQRS carries them) and the select/reject count of every rule.
                for (field, value) in i.fields.sorted(by: { $0.key < $1.key }) {
                    try w.append(Int(runID))
                    try w.append(i.id)
                    try w.append(field)
                    try w.append(i.fieldKinds[field] ?? "exclusion")
                    try w.append(value)
                    try w.endRow()
                }
                for c in i.ruleCounts {
                    try w.append(Int(runID))
                    try w.append(i.id)
                    try w.append("\(c.chain.prefix(3).uppercased())\(c.rule)_\(c.action.uppercased())")
                    try w.append(c.action)
                    try w.append(c.count)
                    try w.endRow()
                }
            }
        }
        if let outcomeSets = r.outcomeSets {
            // One row per indicator, outcome and deciding rule, with its patients as an array (at most
            // `patientsPerSet` per row, so a large practice never makes an oversized field). Patients a rule
            // without a CQRS field leaves out (not in a flu cohort's age band, say) are, like those not on the
            // register, outside the indicator and not stored; every counted outcome is.
            let ids = r.patientIDs
            try conn.copyInBinary(table: "patient_outcome_set", columns: ["run_id", "indicator_id", "outcome", "rule", "field_name", "patients"]) { w in
                for set in outcomeSets where set.outcome != .notInRegister && !(set.outcome == .excluded && set.field == nil) {
                    for start in stride(from: 0, to: set.members.count, by: patientsPerSet) {
                        let members = set.members[start..<min(start + patientsPerSet, set.members.count)]
                        try w.beginRow(fields: 6)
                        try w.append(int8: runID)
                        try w.append(set.indicator)
                        try w.append(set.outcome.rawValue)
                        try w.append(set.rule)
                        try w.append(set.field)
                        try w.appendTextArray(ids, rows: members)
                    }
                }
            }
        }
        return runID
    }

    /// Patients per stored outcome set (keeps every COPY value well under the writer's limit).
    static let patientsPerSet = 5_000

    /// Four decimal places, as stored in numeric(9,4).
    static func format4(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}
