import Clinical
import RulesEngine
import Postgres

/// Reads stored results back: the latest run per practice, and PCN membership on a date.
public enum ResultsQuery {
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
    /// A PCN's season week by week up to `end`, as stored: its member practices' cumulative figures per
    /// cohort, and the same weeks of the previous season (when its ruleset is given). `SeasonView` is built
    /// from these by the pages and commands that show it.
    public struct SeasonFigures: Sendable {
        public var members: [String]
        public var thisSeason: [WeeklyRow]
        public var lastSeason: [WeeklyRow]
    }

    public static func seasonFigures(
        pcn: String, season rs: Ruleset, previous: Ruleset?, end: Day, in conn: isolated PostgresConnection
    ) throws -> SeasonFigures? {
        let members = try members(of: pcn, on: min(end, rs.payPeriodEnd), in: conn)
        guard !members.isEmpty else { return nil }
        let now = try weekly(ruleset: rs.id, from: rs.payPeriodStart, to: end, practices: members, in: conn)
        let before = try previous.map { p in
            try weekly(ruleset: p.id, from: p.payPeriodStart, to: end.adding(years: -1), practices: members, in: conn)
        } ?? []
        return SeasonFigures(members: members, thisSeason: now, lastSeason: before)
    }
}
