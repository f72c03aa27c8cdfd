import Clinical
import Payments
import Postgres
import RulesEngine

/// Reads one practice's stored runs back for the web view: its latest run of a ruleset, that run's
/// results as the engine produced them (so payments can be recomputed from what was stored), and
/// achievement run by run over a period (trends).
public enum PracticeHistory {
    /// A stored run: which extract it evaluated and for which achievement date.
    public struct Run: Sendable, Hashable {
        public var id: Int64
        public var practice: String
        public var ruleset: String
        public var achievementDate: Day
        public var extractID: Int64?
        /// The archived extract's directory name (nil for CQRS imports).
        public var sourceName: String?
    }

    /// One indicator's achievement in one run.
    public struct Point: Sendable, Hashable {
        public var runID: Int64
        public var achievementDate: Day
        public var indicator: String
        public var achievement: Double?
    }

    /// The practice's latest run of `ruleset` (latest achievement date, then latest run).
    public static func latestRun(practice: String, ruleset: String, in conn: isolated PostgresConnection) throws -> Run? {
        try conn.query(
            """
            SELECT r.id, r.practice_ods, r.ruleset_id, r.achievement_date::text, r.extract_id, e.source_name
            FROM computation_run r LEFT JOIN extract e ON e.id = r.extract_id
            WHERE r.practice_ods = \(practice) AND r.ruleset_id = \(ruleset)
            ORDER BY r.achievement_date DESC, r.id DESC LIMIT 1
            """
        ).first.map { row in
            Run(id: try row.decode(0), practice: try row.decode(1), ruleset: try row.decode(2),
                achievementDate: Day(iso: try row.decode(3, as: String.self)) ?? .distantFuture, extractID: try row.decode(4),
                sourceName: try row.decode(5))
        }
    }

    /// The stored results of a run, shaped as the engine's `PracticeResult` (without per-rule counts
    /// or patients): what payments and reports need.
    public static func result(of run: Run, in conn: isolated PostgresConnection) throws -> PracticeResult {
        let head = try conn.query("SELECT list_size FROM computation_run WHERE id = \(run.id)")
        let registers = try conn.query("SELECT register_id, size FROM register_result WHERE run_id = \(run.id) ORDER BY register_id").map {
            RegisterResult(id: try $0.decode(0), size: try $0.decode(1))
        }
        var fields: [String: [String: Int]] = [:]
        var kinds: [String: [String: String]] = [:]
        for row in try conn.query(
            "SELECT indicator_id, field_name, field_kind, value FROM rule_count WHERE run_id = \(run.id) AND field_kind IN ('pca', 'exclusion')")
        {
            let id = try row.decode(0, as: String.self), name = try row.decode(1, as: String.self)
            fields[id, default: [:]][name] = try row.decode(3)
            kinds[id, default: [:]][name] = try row.decode(2)
        }
        let indicators = try conn.query(
            """
            SELECT indicator_id, coalesce(register_id, ''), coalesce(register_size, 0), denominator, numerator, achievement::float8,
                   coalesce(points, 0)::float8, coalesce(max_points, 0)::float8
            FROM indicator_result WHERE run_id = \(run.id) ORDER BY indicator_id
            """
        ).map { row in
            let id = try row.decode(0, as: String.self)
            return IndicatorResult(
                id: id, register: try row.decode(1), registerSize: try row.decode(2), denominator: try row.decode(3), numerator: try row.decode(4),
                fields: fields[id] ?? [:], fieldKinds: kinds[id] ?? [:], achievement: try row.decode(5), points: try row.decode(6),
                maxPoints: try row.decode(7), ruleCounts: [])
        }
        return PracticeResult(ods: run.practice, pcn: nil, listSize: try head.first?.decode(0, as: Int.self) ?? 0, registers: registers,
                              indicators: indicators, patients: nil)
    }

    /// Achievement of every indicator in every run of the practice with an achievement date in
    /// `from...to` (any ruleset, so last year's runs line up with this year's by indicator id).
    public static func trend(practice: String, from: Day, to: Day, in conn: isolated PostgresConnection) throws -> [Point] {
        try conn.query(
            """
            SELECT r.id, r.achievement_date::text, i.indicator_id, i.achievement::float8
            FROM computation_run r JOIN indicator_result i ON i.run_id = r.id
            WHERE r.practice_ods = \(practice) AND r.achievement_date BETWEEN \(PostgresDate(from)) AND \(PostgresDate(to))
            ORDER BY r.achievement_date, r.id
            """
        ).map { row in
            Point(runID: try row.decode(0), achievementDate: Day(iso: try row.decode(1, as: String.self)) ?? from,
                  indicator: try row.decode(2), achievement: try row.decode(3))
        }
    }

    /// The PCN a practice belonged to on `day`, and the practice's name.
    public static func organisation(_ practice: String, on day: Day, in conn: isolated PostgresConnection) throws -> (name: String, pcn: String?)? {
        try conn.query(
            """
            SELECT o.name, m.pcn_ods FROM organisation o
            LEFT JOIN pcn_membership m ON m.practice_ods = o.ods_code AND m.valid_from <= \(PostgresDate(day))
                 AND (m.valid_to IS NULL OR m.valid_to >= \(PostgresDate(day)))
            WHERE o.ods_code = \(practice)
            """
        ).first.map { (try $0.decode(0), try $0.decode(1)) }
    }

    /// The practices of `pcn` whose membership overlaps the period from `since` to today (the PCN's
    /// current members, and those that left within it), or every practice known when `pcn` is nil.
    public static func practices(inPCN pcn: String?, since: Day = .distantPast, in conn: isolated PostgresConnection) throws
        -> [(ods: String, name: String, pcn: String?)]
    {
        let from = since == .distantPast ? PostgresDate(year: 1900, month: 1, day: 1) : PostgresDate(since)
        return try conn.query(
            """
            SELECT o.ods_code, o.name, (SELECT m.pcn_ods FROM pcn_membership m WHERE m.practice_ods = o.ods_code ORDER BY valid_from DESC LIMIT 1)
            FROM organisation o WHERE o.kind = 'practice'
              AND (\(pcn)::text IS NULL OR EXISTS (
                  SELECT 1 FROM pcn_membership m WHERE m.practice_ods = o.ods_code AND m.pcn_ods = \(pcn)
                    AND (m.valid_to IS NULL OR m.valid_to >= \(from))))
            ORDER BY o.ods_code
            """
        ).map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
    }

    /// PCNs with their names.
    public static func pcns(in conn: isolated PostgresConnection) throws -> [(ods: String, name: String)] {
        try conn.query("SELECT ods_code, name FROM organisation WHERE kind = 'pcn' ORDER BY ods_code").map { (try $0.decode(0), try $0.decode(1)) }
    }
}
