import Clinical
import Payments
import RulesEngine
import Postgres

/// Reads stored results back: the latest run per practice, and PCN membership on a date.
public enum ResultsQuery {
    /// One stored indicator result of a practice's latest run.
    public struct StoredIndicator: Sendable, Hashable, Codable {
        public var practice: String
        public var runID: Int64
        public var indicator: String
        public var registerSize: Int
        public var denominator: Int
        public var numerator: Int
        public var achievement: Double?
        public var points: Double
        public var maxPoints: Double
        public var pounds: Double?
        /// False when the figure rests on missing code lists (see `Completeness`).
        public var computable: Bool
    }

    /// Practices that were members of `pcn` on `day` (effective-dated membership).
    public static func members(of pcn: String, on day: Day, in conn: isolated PostgresConnection) throws -> [String] {
        let d = PostgresDate(day)
        return try conn.query(
            """
            SELECT practice_ods FROM pcn_membership
            WHERE pcn_ods = \(pcn) AND valid_from <= \(d) AND (valid_to IS NULL OR valid_to >= \(d))
            ORDER BY practice_ods
            """
        ).map { try $0.decode(0, as: String.self) }
    }

    /// Each practice's latest run for the ruleset and achievement date, with its indicator results.
    public static func latest(
        ruleset: String, achievementDate: Day, practices: [String], in conn: isolated PostgresConnection
    ) throws -> (listSizes: [String: Int], indicators: [StoredIndicator]) {
        let d = PostgresDate(achievementDate)
        let runs = try conn.query(
            """
            SELECT DISTINCT ON (practice_ods) id, practice_ods, list_size FROM computation_run
            WHERE ruleset_id = \(ruleset) AND achievement_date = \(d) AND practice_ods = ANY(\(PostgresArrayLiteral(practices))::text[])
            ORDER BY practice_ods, id DESC
            """)
        var sizes: [String: Int] = [:]
        var ids: [String] = []
        for row in runs {
            sizes[try row.decode(1, as: String.self)] = try row.decode(2, as: Int.self)
            ids.append(String(try row.decode(0, as: Int64.self)))
        }
        let rows = try conn.query(
            """
            SELECT r.practice_ods, r.id, i.indicator_id, coalesce(i.register_size, 0), i.denominator, i.numerator,
                   i.achievement::float8, coalesce(i.points, 0)::float8, coalesce(i.max_points, 0)::float8, i.pounds::float8, i.computable
            FROM indicator_result i JOIN computation_run r ON r.id = i.run_id
            WHERE r.id = ANY(\(PostgresArrayLiteral(ids))::bigint[])
            ORDER BY i.indicator_id, r.practice_ods
            """)
        let indicators = try rows.map { row in
            StoredIndicator(
                practice: try row.decode(0), runID: try row.decode(1), indicator: try row.decode(2), registerSize: try row.decode(3),
                denominator: try row.decode(4), numerator: try row.decode(5), achievement: try row.decode(6), points: try row.decode(7),
                maxPoints: try row.decode(8), pounds: try row.decode(9), computable: try row.decode(10))
        }
        return (sizes, indicators)
    }
}

extension ResultsQuery {
    /// One practice's cumulative figures for one cohort at the end of one week.
    public struct WeeklyRow: Sendable, Hashable {
        public var week: Day
        public var practice: String
        public var indicator: String
        public var denominator: Int
        public var numerator: Int
        /// The cohort's uptake target as stored with the run.
        public var target: Double?
    }

    /// For every week ending between `from + 6 days` and `to`, and for `to` itself (so the last point is the
    /// same date as the latest figures beside it), each practice's latest run on or before the week's end
    /// (one snapshot per extract, so weekly or daily extracts both work).
    public static func weekly(
        ruleset: String, from: Day, to: Day, practices: [String], in conn: isolated PostgresConnection
    ) throws -> [WeeklyRow] {
        guard to >= from.adding(days: 6) else { return [] }
        return try conn.query(
            """
            SELECT w.week::date::text, r.practice_ods, i.indicator_id, i.denominator, i.numerator, i.target::float8
            FROM (SELECT generate_series(\(PostgresDate(from.adding(days: 6)))::date, \(PostgresDate(to))::date, interval '7 days')::date
                  UNION SELECT \(PostgresDate(to))::date) AS w(week)
            CROSS JOIN unnest(\(PostgresArrayLiteral(practices))::text[]) AS p(ods)
            JOIN LATERAL (
                SELECT id, practice_ods FROM computation_run
                WHERE practice_ods = p.ods AND ruleset_id = \(ruleset) AND achievement_date <= w.week AND achievement_date >= \(PostgresDate(from))
                ORDER BY achievement_date DESC, id DESC LIMIT 1
            ) r ON true
            JOIN indicator_result i ON i.run_id = r.id
            ORDER BY 1, 2, 3
            """
        ).map { row in
            WeeklyRow(week: Day(iso: try row.decode(0, as: String.self))!, practice: try row.decode(1), indicator: try row.decode(2),
                      denominator: try row.decode(3), numerator: try row.decode(4), target: try row.decode(5))
        }
    }
}

extension ResultsQuery {
    /// A PCN's season week by week up to `end`: its member practices' cumulative uptake per cohort,
    /// beside the previous season (when its ruleset is given) and the cohorts' targets.
    public static func seasonView(
        pcn: String, season rs: Ruleset, previous: Ruleset?, end: Day, cohorts: Set<String> = [], in conn: isolated PostgresConnection
    ) throws -> SeasonView? {
        let members = try members(of: pcn, on: min(end, rs.payPeriodEnd), in: conn)
        guard !members.isEmpty else { return nil }
        func rows(_ r: [WeeklyRow]) -> [SeasonView.Row] {
            r.filter { cohorts.isEmpty || cohorts.contains($0.indicator) }
                .map { .init(week: $0.week, practice: $0.practice, cohort: $0.indicator, denominator: $0.denominator, numerator: $0.numerator) }
        }
        let now = try weekly(ruleset: rs.id, from: rs.payPeriodStart, to: end, practices: members, in: conn)
        let before = try previous.map { p in
            try weekly(ruleset: p.id, from: p.payPeriodStart, to: end.adding(years: -1), practices: members, in: conn)
        } ?? []
        // Targets as the latest runs stored them (the rules' own where a run has none).
        var targets = Dictionary(uniqueKeysWithValues: rs.indicators.compactMap { i in i.target.map { (i.id, $0.percent) } })
        for r in now.sorted(by: { $0.week < $1.week }) { if let t = r.target { targets[r.indicator] = t } }
        return SeasonView.build(season: rs.id, seasonEnd: rs.payPeriodEnd, rows: rows(now), lastSeason: rows(before), targets: targets)
    }
}
