import Clinical
import Foundation
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
    /// The rules the run used (thresholds, targets and the rule text are stored with it); nil only in tests.
    public var ruleset: Ruleset?
    /// The share of last year's year-end pounds paid in advance through the year (national figures).
    public var aspirationPercent: Double?

    public init(
        extractID: Int64?, practice: PracticeInfo, rulesetID: String, rulesetSHA256: String, clusterVersion: String,
        achievementDate: Day, result: PracticeResult, engineVersion: String, worker: String? = nil, payment: PracticePayment? = nil,
        ruleset: Ruleset? = nil, aspirationPercent: Double? = nil
    ) {
        self.payment = payment
        self.ruleset = ruleset
        self.aspirationPercent = aspirationPercent
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

    /// Stores one run with its registers, indicator results (with every payment figure and the completeness
    /// of its code lists), per-rule counts and (when present) per-patient outcomes, using COPY for the bulky
    /// parts. The figures stored here are the only ones any output shows. Returns the run id.
    /// Last year's year-end pounds (same family, made before this run, so a declared report reads it again) and
    /// the aspiration paid on them: stored with the run and part of its figures' fingerprint.
    static func lastYear(of run: RunRecord, in conn: isolated PostgresConnection) throws -> (pounds: Double?, aspiration: Double?) {
        var pounds: Double?
        if run.payment != nil, let rs = run.ruleset {
            pounds = try PracticeHistory.yearEndPounds(practice: run.practice.ods, family: rs.family, on: rs.payPeriodEnd.adding(years: -1), in: conn)
        }
        return (pounds, pounds.flatMap { p in run.aspirationPercent.map { p * $0 / 100 } })
    }

    @discardableResult
    public static func store(_ run: RunRecord, in conn: isolated PostgresConnection, source: String = "extract") throws -> Int64 {
        let r = run.result
        let pay = run.payment
        let (lastYearPounds, aspiration) = try lastYear(of: run, in: conn)
        if let rs = run.ruleset, !rs.text.isEmpty {
            try conn.execute(
                """
                INSERT INTO ruleset_version (sha256, ruleset_id, rule_text) VALUES (\(rs.sha256), \(rs.id), \(rs.text))
                ON CONFLICT (sha256) DO NOTHING
                """)
        }
        let rows = try conn.query(
            """
            INSERT INTO computation_run (extract_id, practice_ods, ruleset_id, ruleset_sha256, cluster_version,
                                         achievement_date, list_size, engine_version, worker, finished_at, source, ruleset_family,
                                         payment_year, points_achieved, points_available, pounds, pounds_available, pounds_at_stake,
                                         pounds_not_assessed, last_year_pounds, aspiration, unverified_figures, figures_sha256)
            VALUES (\(run.extractID), \(run.practice.ods), \(run.rulesetID), \(run.rulesetSHA256), \(run.clusterVersion),
                    \(PostgresDate(run.achievementDate)), \(r.listSize), \(run.engineVersion), \(run.worker), now(), \(source), \(run.ruleset?.family),
                    \(pay?.year), \(pay.map { format4($0.pointsAchieved) }), \(pay.map { format4($0.pointsAvailable) }),
                    \(pay.map { money($0.pounds) }), \(pay.map { money($0.poundsAvailable) }), \(pay.map { money($0.poundsAtStake) }),
                    \(pay.map { money($0.poundsNotAssessed) }), \(lastYearPounds.map(money)), \(aspiration.map(money)),
                    \(PostgresArrayLiteral(pay?.unverifiedFigures ?? []))::text[],
                    \(figuresFingerprint(run, lastYearPounds: lastYearPounds, aspiration: aspiration)))
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
        let paid = Dictionary((pay?.indicators ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let definitions = Dictionary((run.ruleset?.indicators ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        try conn.copyIn(
            table: "indicator_result",
            columns: ["run_id", "indicator_id", "register_id", "register_size", "denominator", "numerator", "achievement",
                      "points", "max_points", "pounds", "pounds_available", "pounds_at_stake", "patients_for_next_point", "points_removed",
                      "list_size_factor", "prevalence_factor", "lower_threshold", "upper_threshold", "target", "completeness", "computable",
                      "completeness_direction", "missing_clusters", "stand_in_clusters"]
        ) { w in
            func optional(_ s: String?) throws { if let s { try w.append(s) } else { try w.appendNull() } }
            for i in indicators {
                let p = paid[i.id]
                let def = definitions[i.id]
                let c = i.completeness
                try w.append(Int(runID))
                try w.append(i.id)
                try w.append(i.register)
                try w.append(i.registerSize)
                try w.append(i.denominator)
                try w.append(i.numerator)
                try optional(i.achievement.map(format4))
                try w.append(format4(p?.points ?? i.points))
                try w.append(format4(p?.maxPoints ?? i.maxPoints))
                try optional(p.map { money($0.pounds) })
                try optional(p.map { money($0.poundsAvailable) })
                try optional(p.flatMap { $0.computable ? money($0.poundsAtStake) : nil })
                try optional(p?.patientsForNextPoint.map(String.init))
                try w.append(p.map { !$0.available } ?? false)
                try optional(p.map { "\($0.listSizeFactor)" })
                try optional(p.map { "\($0.prevalenceFactor)" })
                try optional(def.map { format4($0.lowerThreshold) })
                try optional(def.map { format4($0.upperThreshold) })
                try optional(def?.target.map { format4($0.percent) })
                try w.append(c.status.rawValue)
                try w.append(c.computable)
                try optional(c.direction?.rawValue)
                try w.append(PostgresArrayLiteral(c.missing))
                try w.append(PostgresArrayLiteral(c.standIns))
                try w.endRow()
            }
        }
        try conn.copyIn(table: "rule_count", columns: ["run_id", "indicator_id", "field_name", "field_kind", "value"]) { w in
            for i in indicators {
                // Named fields as CQRS carries them: PCAs, exclusions and a cohort's tallies.
                for (field, value) in i.fields.sorted(by: { $0.key < $1.key }) {
                    try w.append(Int(runID))
                    try w.append(i.id)
                    try w.append(field)
                    try w.append((i.fieldKinds[field] ?? .exclusion).rawValue)
                    try w.append(value)
                    try w.endRow()
                }
            }
        }
        try conn.copyIn(table: "rule_step_count", columns: ["run_id", "indicator_id", "chain", "rule_number", "action", "field_name", "value"]) { w in
            for i in indicators {
                // How many patients each rule selected or rejected: the rule funnel.
                for c in i.ruleCounts {
                    try w.append(Int(runID))
                    try w.append(i.id)
                    try w.append(c.chain)
                    try w.append(c.rule)
                    try w.append(c.action)
                    if let f = c.field { try w.append(f) } else { try w.appendNull() }
                    try w.append(c.count)
                    try w.endRow()
                }
            }
        }
        try storeOutcomeSets(r, runID: runID, extractID: run.extractID, in: conn)
        return runID
    }

    /// Patients per stored outcome set (keeps every COPY value well under the writer's limit).
    static let patientsPerSet = 5_000

    /// Pounds and pence, as stored in numeric(14,2).
    static func money(_ x: Double) -> String { String(format: "%.2f", x) }

    /// Four decimal places, as stored in numeric(9,4).
    static func format4(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}
