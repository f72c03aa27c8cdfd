import Clinical
import Foundation
import Postgres
import RulesEngine

/// A stored run's figures, exactly as the pipeline stored them: the one source every output reads
/// (reports in every format, the CQRS export, the web pages, `qofd pcn`). Nothing here is recomputed.
public struct StoredFigures: Sendable {
    /// One indicator (or vaccination cohort) of the run.
    public struct Indicator: Sendable {
        public var id: String
        public var register: String
        public var registerSize: Int
        public var denominator: Int
        public var numerator: Int
        /// Percent achieved; nil when the denominator is 0.
        public var achievement: Double?
        /// Points as paid (income-protected indicators at last year's points) and the indicator's maximum.
        public var points: Double
        public var maxPoints: Double
        public var pounds: Double?
        public var poundsAvailable: Double?
        /// Nil when there are no pounds, or the figure cannot be computed (missing code lists).
        public var poundsAtStake: Double?
        public var patientsForNextPoint: Int?
        /// The group's register is empty, so its points are removed from the practice's maximum.
        public var pointsRemoved: Bool
        public var listSizeFactor: Double?
        public var prevalenceFactor: Double?
        public var lowerThreshold: Double?
        public var upperThreshold: Double?
        public var target: Double?
        /// Named CQRS fields with their counts and kinds.
        public var fields: [String: Int]
        public var fieldKinds: [String: FieldKind]
        public var completeness: Completeness

        /// Fields of one kind.
        public func fields(_ kind: FieldKind) -> [String: Int] { fields.filter { (fieldKinds[$0.key] ?? .exclusion) == kind } }
    }

    public var runID: Int64
    public var practice: String
    public var ruleset: String
    public var rulesetSHA256: String
    public var clusterVersion: String
    public var achievementDate: Day
    public var listSize: Int
    public var extractID: Int64?
    /// The national figures' year used for pounds; nil when the run has no pounds.
    public var paymentYear: String?
    public var pointsAchieved: Double
    public var pointsAvailable: Double
    public var pounds: Double?
    public var poundsAvailable: Double?
    public var poundsAtStake: Double?
    public var poundsNotAssessed: Double?
    public var lastYearPounds: Double?
    public var aspiration: Double?
    public var unverifiedFigures: [String]
    public var indicators: [Indicator]

    /// Pounds achieved less the aspiration paid in advance.
    public var balance: Double? { aspiration.flatMap { a in pounds.map { $0 - a } } }
    /// Indicators whose figure cannot be computed (a rule reads only missing code lists).
    public var notComputable: [String] { indicators.filter { !$0.completeness.computable }.map(\.id) }
    /// Indicators with any missing code list.
    public var incomplete: [String] { indicators.filter { $0.completeness.status == .missing }.map(\.id) }

    /// The run's figures, or nil when there is no such run.
    public static func load(run runID: Int64, in conn: isolated PostgresConnection) throws -> StoredFigures? {
        guard let head = try conn.query(
            """
            SELECT id, practice_ods, ruleset_id, ruleset_sha256, cluster_version, achievement_date::text, list_size, extract_id,
                   payment_year, points_achieved::float8, points_available::float8, pounds::float8, pounds_available::float8,
                   pounds_at_stake::float8, pounds_not_assessed::float8, last_year_pounds::float8, aspiration::float8, to_json(unverified_figures)::text
            FROM computation_run WHERE id = \(runID)
            """
        ).first else { return nil }
        var fields: [String: [String: Int]] = [:]
        var kinds: [String: [String: FieldKind]] = [:]
        for row in try conn.query("SELECT indicator_id, field_name, field_kind, value FROM rule_count WHERE run_id = \(runID)") {
            let id = try row.decode(0, as: String.self), name = try row.decode(1, as: String.self)
            fields[id, default: [:]][name] = try row.decode(3)
            kinds[id, default: [:]][name] = FieldKind(rawValue: try row.decode(2, as: String.self)) ?? .exclusion
        }
        let indicators = try conn.query(
            """
            SELECT indicator_id, coalesce(register_id, ''), coalesce(register_size, 0), denominator, numerator, achievement::float8,
                   coalesce(points, 0)::float8, coalesce(max_points, 0)::float8, pounds::float8, pounds_available::float8,
                   pounds_at_stake::float8, patients_for_next_point, points_removed, list_size_factor, prevalence_factor,
                   lower_threshold::float8, upper_threshold::float8, target::float8, completeness, computable, completeness_direction,
                   to_json(missing_clusters)::text, to_json(stand_in_clusters)::text
            FROM indicator_result WHERE run_id = \(runID) ORDER BY indicator_id
            """
        ).map { row in
            let id = try row.decode(0, as: String.self)
            let completeness = Completeness(
                status: Completeness.Status(rawValue: try row.decode(18, as: String.self)) ?? .complete, computable: try row.decode(19),
                missing: strings(try row.decode(21)), standIns: strings(try row.decode(22)),
                direction: try row.decode(20, as: String?.self).flatMap(Completeness.Direction.init(rawValue:)))
            return Indicator(
                id: id, register: try row.decode(1), registerSize: try row.decode(2), denominator: try row.decode(3), numerator: try row.decode(4),
                achievement: try row.decode(5), points: try row.decode(6), maxPoints: try row.decode(7), pounds: try row.decode(8),
                poundsAvailable: try row.decode(9), poundsAtStake: try row.decode(10), patientsForNextPoint: try row.decode(11),
                pointsRemoved: try row.decode(12), listSizeFactor: try row.decode(13), prevalenceFactor: try row.decode(14),
                lowerThreshold: try row.decode(15), upperThreshold: try row.decode(16), target: try row.decode(17),
                fields: fields[id] ?? [:], fieldKinds: kinds[id] ?? [:], completeness: completeness)
        }
        let pointsAchieved = try head.decode(9, as: Double?.self) ?? indicators.reduce(0) { $0 + $1.points }
        let pointsAvailable = try head.decode(10, as: Double?.self)
            ?? indicators.filter { $0.registerSize > 0 && !$0.pointsRemoved }.reduce(0) { $0 + $1.maxPoints }
        return StoredFigures(
            runID: try head.decode(0), practice: try head.decode(1), ruleset: try head.decode(2), rulesetSHA256: try head.decode(3),
            clusterVersion: try head.decode(4), achievementDate: Day(iso: try head.decode(5, as: String.self)) ?? .distantPast,
            listSize: try head.decode(6), extractID: try head.decode(7), paymentYear: try head.decode(8), pointsAchieved: pointsAchieved,
            pointsAvailable: pointsAvailable, pounds: try head.decode(11), poundsAvailable: try head.decode(12),
            poundsAtStake: try head.decode(13), poundsNotAssessed: try head.decode(14), lastYearPounds: try head.decode(15),
            aspiration: try head.decode(16), unverifiedFigures: strings(try head.decode(17)), indicators: indicators)
    }

    /// A text[] column read as JSON.
    static func strings(_ json: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    /// Each practice's figures from its latest run of the ruleset for the date (practices without one are absent).
    public static func latest(ruleset: String, achievementDate: Day, practices: [String], in conn: isolated PostgresConnection) throws
        -> [String: StoredFigures]
    {
        var out: [String: StoredFigures] = [:]
        for p in practices {
            if let id = try latestRunID(practice: p, ruleset: ruleset, on: achievementDate, in: conn), let f = try load(run: id, in: conn) { out[p] = f }
        }
        return out
    }

    /// The latest run of a practice for a ruleset on an achievement date (latest date when `on` is nil).
    public static func latestRunID(practice: String, ruleset: String, on day: Day? = nil, in conn: isolated PostgresConnection) throws -> Int64? {
        try conn.query(
            """
            SELECT id FROM computation_run
            WHERE practice_ods = \(practice) AND ruleset_id = \(ruleset) AND (\(day.map(PostgresDate.init))::date IS NULL OR achievement_date = \(day.map(PostgresDate.init))::date)
            ORDER BY achievement_date DESC, id DESC LIMIT 1
            """
        ).first.map { try $0.decode(0, as: Int64.self) }
    }
}
