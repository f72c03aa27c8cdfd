import Clinical
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
        /// The archived extract's directory name, as its row records it (nil for CQRS imports).
        public var sourceName: String?
        /// The exact rules and code lists the run used.
        public var rulesetSHA256: String = ""
        public var clusterVersion: String = ""
    }

    /// Each practice's latest run per ruleset and achievement date since `since`, with when its figures were
    /// first stored (the earliest of the latest runs with the same figures: an unchanged week rewrites no
    /// report): the reports the daemon should have on disk (the start-up and nightly report check).
    public static func reportableRuns(rulesets: [String], since: Day, in conn: isolated PostgresConnection) throws
        -> [(practice: String, ruleset: String, achievementDate: Day, finishedAt: Double)]
    {
        try conn.query(
            """
            WITH latest AS (
                SELECT DISTINCT ON (practice_ods, ruleset_id, achievement_date) id, practice_ods, ruleset_id, achievement_date, figures_sha256
                FROM computation_run
                WHERE ruleset_id = ANY(\(PostgresArrayLiteral(rulesets))::text[]) AND achievement_date >= \(PostgresDate(since))
                ORDER BY practice_ods, ruleset_id, achievement_date, id DESC
            )
            SELECT l.practice_ods, l.ruleset_id, l.achievement_date::text,
                   (SELECT extract(epoch FROM min(coalesce(c.finished_at, c.started_at)))::float8 FROM computation_run c
                    WHERE c.practice_ods = l.practice_ods AND c.ruleset_id = l.ruleset_id AND c.achievement_date = l.achievement_date
                      AND (c.id = l.id OR (l.figures_sha256 IS NOT NULL AND c.id > coalesce((
                          SELECT max(d.id) FROM computation_run d
                          WHERE d.practice_ods = l.practice_ods AND d.ruleset_id = l.ruleset_id AND d.achievement_date = l.achievement_date
                            AND d.figures_sha256 IS DISTINCT FROM l.figures_sha256), 0))))
            FROM latest l
            """
        ).map { (try $0.decode(0), try $0.decode(1), Day(iso: try $0.decode(2, as: String.self)) ?? since, try $0.decode(3)) }
    }

    /// What has been computed from an extract: each run's rules, code lists and achievement date.
    public static func computed(extract id: Int64, in conn: isolated PostgresConnection) throws
        -> [(rulesetSHA256: String, clusterVersion: String, achievementDate: Day)]
    {
        try conn.query("SELECT ruleset_sha256, cluster_version, achievement_date::text FROM computation_run WHERE extract_id = \(id)")
            .map { (try $0.decode(0), try $0.decode(1), Day(iso: try $0.decode(2, as: String.self)) ?? .distantPast) }
    }

    /// Every practice with a run of the ruleset for the date (the reports a `qofd report` for all practices writes).
    public static func practicesWithRuns(ruleset: String, achievementDate: Day, in conn: isolated PostgresConnection) throws -> [String] {
        try conn.query(
            "SELECT DISTINCT practice_ods FROM computation_run WHERE ruleset_id = \(ruleset) AND achievement_date = \(PostgresDate(achievementDate)) ORDER BY 1"
        ).map { try $0.decode(0, as: String.self) }
    }

    /// True when the practice's latest run of the ruleset for the date has the same figures as the run before
    /// it for that date (its reports would not change).
    public static func figuresUnchanged(practice: String, ruleset: String, achievementDate: Day, in conn: isolated PostgresConnection) throws -> Bool {
        let rows = try conn.query(
            """
            SELECT figures_sha256 FROM computation_run
            WHERE practice_ods = \(practice) AND ruleset_id = \(ruleset) AND achievement_date = \(PostgresDate(achievementDate))
            ORDER BY id DESC LIMIT 2
            """
        ).map { try $0.decode(0, as: String?.self) }
        return rows.count == 2 && rows[0] != nil && rows[0] == rows[1]
    }

    /// The rule text a run used, by its SHA-256 (nil for runs stored before rule texts were kept).
    public static func ruleText(sha256: String, in conn: isolated PostgresConnection) throws -> String? {
        try conn.query("SELECT rule_text FROM ruleset_version WHERE sha256 = \(sha256)").first.map { try $0.decode(0, as: String.self) }
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
            SELECT r.id, r.practice_ods, r.ruleset_id, r.achievement_date::text, r.extract_id, coalesce(e.archive_name, e.source_name),
                   r.ruleset_sha256, r.cluster_version
            FROM computation_run r LEFT JOIN extract e ON e.id = r.extract_id
            WHERE r.practice_ods = \(practice) AND r.ruleset_id = \(ruleset)
            ORDER BY r.achievement_date DESC, r.id DESC LIMIT 1
            """
        ).first.map { row in
            Run(id: try row.decode(0), practice: try row.decode(1), ruleset: try row.decode(2),
                achievementDate: Day(iso: try row.decode(3, as: String.self)) ?? .distantFuture, extractID: try row.decode(4),
                sourceName: try row.decode(5), rulesetSHA256: try row.decode(6), clusterVersion: try row.decode(7))
        }
    }

    /// Last year's year-end pounds of a practice: its latest run of the ruleset family at that payment
    /// period end (nil when there is none or it has no pounds).
    public static func yearEndPounds(practice: String, family: String, on day: Day, in conn: isolated PostgresConnection) throws -> Double? {
        return try conn.query(
            """
            SELECT coalesce(r.pounds, (SELECT sum(i.pounds) FROM indicator_result i WHERE i.run_id = r.id))::float8
            FROM computation_run r
            WHERE r.practice_ods = \(practice) AND r.ruleset_family = \(family) AND r.achievement_date = \(PostgresDate(day))
            ORDER BY r.id DESC LIMIT 1
            """
        ).first.flatMap { try $0.decode(0, as: Double?.self) }
    }

    /// Achievement per indicator of the run before `runID`: the same practice and ruleset, the latest run
    /// made for an earlier achievement date or earlier for the same date (weekly extracts compare week on week)
    /// whose figures differ (a week that changed nothing leaves the report, and what it compares with, as it was).
    public static func achievements(ofRunBefore runID: Int64, in conn: isolated PostgresConnection) throws -> [String: Double] {
        try achievementMap(conn.query(
            """
            SELECT indicator_id, achievement::float8 FROM indicator_result WHERE run_id = (
                SELECT p.id FROM computation_run p JOIN computation_run r ON r.id = \(runID)
                WHERE p.practice_ods = r.practice_ods AND p.ruleset_id = r.ruleset_id AND p.id <> r.id
                  AND (p.achievement_date < r.achievement_date OR (p.achievement_date = r.achievement_date AND p.id < r.id))
                  AND (r.figures_sha256 IS NULL OR p.figures_sha256 IS DISTINCT FROM r.figures_sha256)
                ORDER BY p.achievement_date DESC, p.id DESC LIMIT 1)
            """))
    }

    /// Achievement per indicator of the practice's latest run of the ruleset family on `day` (last year's
    /// figure for the same date: a flu run never stands in for a QOF one).
    public static func achievements(practice: String, family: String, on day: Day, in conn: isolated PostgresConnection) throws -> [String: Double] {
        try achievementMap(conn.query(
            """
            SELECT indicator_id, achievement::float8 FROM indicator_result WHERE run_id = (
                SELECT id FROM computation_run WHERE practice_ods = \(practice) AND ruleset_family = \(family)
                  AND achievement_date = \(PostgresDate(day))
                ORDER BY id DESC LIMIT 1)
            """))
    }

    private static func achievementMap(_ rows: PostgresRows) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for r in rows { if let a = try r.decode(1, as: Double?.self) { out[try r.decode(0, as: String.self)] = a } }
        return out
    }

    /// Patient ids per indicator per outcome of a run (patient-identifiable: subject-list reports only).
    public static func patientLists(run runID: Int64, in conn: isolated PostgresConnection) throws -> [String: [String: [String]]] {
        var lists: [String: [String: [String]]] = [:]
        for r in try conn.query(
            "SELECT indicator_id, outcome, patient_id FROM patient_outcome WHERE run_id = \(runID) ORDER BY indicator_id, outcome, patient_id")
        {
            lists[try r.decode(0, as: String.self), default: [:]][try r.decode(1, as: String.self), default: []].append(try r.decode(2, as: String.self))
        }
        return lists
    }

    /// Achievement of every indicator in every run of the practice with an achievement date in
    /// `from...to`, for one ruleset family (so last year's runs line up with this year's by indicator id,
    /// and a flu run never appears on a QOF trend).
    public static func trend(practice: String, family: String, from: Day, to: Day, in conn: isolated PostgresConnection) throws -> [Point] {
        try conn.query(
            """
            SELECT r.id, r.achievement_date::text, i.indicator_id, i.achievement::float8
            FROM computation_run r JOIN indicator_result i ON i.run_id = r.id
            WHERE r.practice_ods = \(practice) AND r.ruleset_family = \(family)
              AND r.achievement_date BETWEEN \(PostgresDate(from)) AND \(PostgresDate(to))
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
