import Clinical
import Clusters
import Foundation
import Postgres
import Stratification

/// Interventions and their impact: a cohort frozen from an indicator's worklist at a stored run, the rest of
/// that open denominator as the comparison group, and for each later run of the same ruleset how many of each
/// reached the numerator (from the stored patient outcomes), overall and by the groups they were in when frozen.
public enum InterventionStore {
    /// A frozen patient: which arm, and the groups the impact is broken down by (as on the freezing date).
    public struct Member: Sendable, Hashable {
        public enum Arm: String, Sendable { case intervention, comparison }
        public var patient: String
        public var arm: Arm
        public var imdQuintile: String
        public var ethnicGroup: String
        public var sex: String
        public var ageBand: String
        public init(patient: String, arm: Arm, imdQuintile: String, ethnicGroup: String, sex: String, ageBand: String) {
            self.patient = patient
            self.arm = arm
            self.imdQuintile = imdQuintile
            self.ethnicGroup = ethnicGroup
            self.sex = sex
            self.ageBand = ageBand
        }
    }

    /// The patients of a worklist or cohort (population rows) frozen on `day`: those in `acted` as the intervention
    /// arm, the rest as the comparison, each with the groups the impact is broken down by.
    public static func members(_ population: Population, rows: [Int], acted: Set<Int>, on day: Day, decile: (String) -> Int?,
                               ethnicGroups: EthnicGroups) -> [Member] {
        rows.map { row in
            let g = PopulationSummary.groups(population, row, on: day, decile: decile, ethnicGroups: ethnicGroups)
            return Member(patient: population.patientIDs[row], arm: acted.contains(row) ? .intervention : .comparison, imdQuintile: g.imdQuintile,
                          ethnicGroup: g.ethnicGroup, sex: g.sex, ageBand: g.ageBand)
        }
    }

    public struct Intervention: Sendable {
        public var id: Int64
        public var practice: String
        public var name: String
        public var whatWasDone: String
        public var ruleset: String
        /// The indicator whose numerator counts as reached, or the cohort whose leaving does (`cohort` set).
        public var indicator: String
        public var cohort: String?
        public var frozenRun: Int64
        public var frozenOn: Day
        public var selection: String
        public var createdBy: String
        public var cohortSize: Int
        public var comparisonSize: Int
    }

    /// One run's counts for one group.
    public struct Result: Sendable, Hashable {
        public var run: Int64
        public var achievementDate: Day
        public var dataTo: Day
        public var dimension: String
        public var group: String
        public var cohortN: Int
        public var cohortReached: Int
        public var comparisonN: Int
        public var comparisonReached: Int
        /// The difference in the share reaching the numerator, with its 95 % interval.
        public var difference: ImpactEstimate.Difference? {
            ImpactEstimate.difference(cohortReached, of: cohortN, comparisonReached, of: comparisonN)
        }
    }

    public enum InterventionError: Error, CustomStringConvertible {
        case noPatients, unknownRun, noOutcomes
        public var description: String {
            switch self {
            case .noPatients: return "the frozen cohort holds no patient"
            case .unknownRun: return "the run to freeze from is not stored"
            case .noOutcomes: return "the run kept no patient outcomes (store_patient_outcomes is off), so nobody can be followed"
            }
        }
    }

    /// Records an intervention frozen from `run`'s worklist of `indicator` (the caller names both arms), follows
    /// it through the runs already stored after it, and returns its id.
    /// `cohort`: frozen from a cohort's list instead (then `indicator` is ignored, and each later extract's pipeline
    /// run counts who has left the cohort).
    public static func create(practice: String, name: String, whatWasDone: String, indicator: String, cohort: String? = nil, run: Int64,
                              selection: String, members: [Member], by user: String, in conn: isolated PostgresConnection) throws -> Int64 {
        guard members.contains(where: { $0.arm == .intervention }) else { throw InterventionError.noPatients }
        guard let r = try conn.query(
            """
            SELECT c.ruleset_id, e.data_to::text FROM computation_run c LEFT JOIN extract e ON e.id = c.extract_id
            WHERE c.id = \(run) AND c.practice_ods = \(practice)
            """).first else { throw InterventionError.unknownRun }
        if cohort == nil, try conn.query("SELECT 1 FROM patient_outcome_set WHERE run_id = \(run) LIMIT 1").isEmpty { throw InterventionError.noOutcomes }
        let ruleset = try r.decode(0, as: String.self)
        let dataTo = try r.decode(1, as: String?.self) ?? "1970-01-01"
        let id = try conn.query(
            """
            INSERT INTO intervention (practice_ods, name, what_was_done, ruleset_id, indicator_id, cohort_id, frozen_run_id, frozen_on, selection, created_by)
            VALUES (\(practice), \(name), \(whatWasDone), \(ruleset), \(cohort == nil ? indicator : nil), \(cohort), \(run), \(dataTo)::date, \(selection), \(user))
            RETURNING id
            """)[0].decode(0, as: Int64.self)
        try conn.copyIn(table: "intervention_member", columns: ["intervention_id", "patient_id", "arm", "imd_quintile", "ethnic_group", "sex", "age_band"]) { w in
            for m in members {
                try w.append(Int(id))
                try w.append(m.patient)
                try w.append(m.arm.rawValue)
                try w.append(m.imdQuintile)
                try w.append(m.ethnicGroup)
                try w.append(m.sex)
                try w.append(m.ageBand)
                try w.endRow()
            }
        }
        // A worklist's intervention follows the runs already stored after it; a cohort's, the extracts to come.
        guard cohort == nil else { return id }
        for later in try conn.query(
            """
            SELECT c.id FROM computation_run c JOIN extract e ON e.id = c.extract_id
            WHERE c.practice_ods = \(practice) AND c.ruleset_id = \(ruleset) AND e.data_to > \(dataTo)::date ORDER BY e.data_to, c.id
            """) {
            try follow(intervention: id, run: try later.decode(0, as: Int64.self), in: conn)
        }
        return id
    }

    /// Counts, for a later run, each arm's members and those in the indicator's numerator, overall and by group
    /// (from the run's stored outcome sets: a member who left, died or was excepted has not reached it).
    static func follow(intervention id: Int64, run: Int64, in conn: isolated PostgresConnection) throws {
        try conn.execute(
            """
            INSERT INTO intervention_result (intervention_id, run_id, dimension, grp, cohort_n, cohort_reached, comparison_n, comparison_reached)
            SELECT \(id), \(run), d.dimension, d.grp,
                   count(*) FILTER (WHERE m.arm = 'intervention'), count(*) FILTER (WHERE m.arm = 'intervention' AND n.patient_id IS NOT NULL),
                   count(*) FILTER (WHERE m.arm = 'comparison'), count(*) FILTER (WHERE m.arm = 'comparison' AND n.patient_id IS NOT NULL)
            FROM intervention_member m
            JOIN intervention i ON i.id = m.intervention_id
            CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_quintile', m.imd_quintile), ('ethnic_group', m.ethnic_group), ('sex', m.sex),
                                       ('age_band', m.age_band)) AS d (dimension, grp)
            LEFT JOIN (SELECT DISTINCT o.patient_id FROM patient_outcome o JOIN intervention i2 ON i2.id = \(id)
                       WHERE o.run_id = \(run) AND o.indicator_id = i2.indicator_id AND o.outcome = 'numerator') n ON n.patient_id = m.patient_id
            WHERE m.intervention_id = \(id)
            GROUP BY d.dimension, d.grp
            ON CONFLICT DO NOTHING
            """)
    }

    /// Follows every intervention of the run's practice and ruleset frozen before the run's data: the pipeline
    /// calls this in the transaction that stores the run.
    public static func followAll(run: Int64, in conn: isolated PostgresConnection) throws {
        for row in try conn.query(
            """
            SELECT i.id FROM intervention i JOIN computation_run c ON c.id = \(run) JOIN extract e ON e.id = c.extract_id
            WHERE i.practice_ods = c.practice_ods AND i.ruleset_id = c.ruleset_id AND e.data_to > i.frozen_on AND i.indicator_id IS NOT NULL
            """) {
            try follow(intervention: try row.decode(0, as: Int64.self), run: run, in: conn)
        }
    }

    /// The practice's cohort interventions frozen before `day`, with their members: what an extract of that day follows.
    public static func cohortInterventions(practice: String, before day: Day, in conn: isolated PostgresConnection) throws -> [(id: Int64, cohort: String, members: [Member])] {
        var out: [(id: Int64, cohort: String, members: [Member])] = []
        for r in try conn.query(
            "SELECT id, cohort_id FROM intervention WHERE practice_ods = \(practice) AND cohort_id IS NOT NULL AND frozen_on < \(PostgresDate(day)) ORDER BY id") {
            let id = try r.decode(0, as: Int64.self)
            let members = try conn.query(
                "SELECT patient_id, arm, imd_quintile, ethnic_group, sex, age_band FROM intervention_member WHERE intervention_id = \(id)"
            ).map { m in
                Member(patient: try m.decode(0), arm: Member.Arm(rawValue: try m.decode(1)) ?? .comparison, imdQuintile: try m.decode(2),
                       ethnicGroup: try m.decode(3), sex: try m.decode(4), ageBand: try m.decode(5))
            }
            out.append((id, try r.decode(1), members))
        }
        return out
    }

    /// Stores a cohort intervention's counts for an extract (`run`: one of its runs), from who has left the cohort.
    public static func storeFollow(_ id: Int64, run: Int64, members: [Member], reached: Set<String>, in conn: isolated PostgresConnection) throws {
        var cells: [String: (Int, Int, Int, Int)] = [:]
        for m in members {
            let hit = reached.contains(m.patient)
            for key in ["all|", "imd_quintile|\(m.imdQuintile)", "ethnic_group|\(m.ethnicGroup)", "sex|\(m.sex)", "age_band|\(m.ageBand)"] {
                var c = cells[key] ?? (0, 0, 0, 0)
                if m.arm == .intervention { c.0 += 1; c.1 += hit ? 1 : 0 } else { c.2 += 1; c.3 += hit ? 1 : 0 }
                cells[key] = c
            }
        }
        for (key, c) in cells {
            let parts = key.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            try conn.execute(
                """
                INSERT INTO intervention_result (intervention_id, run_id, dimension, grp, cohort_n, cohort_reached, comparison_n, comparison_reached)
                VALUES (\(id), \(run), \(parts[0]), \(parts[1]), \(c.0), \(c.1), \(c.2), \(c.3)) ON CONFLICT DO NOTHING
                """)
        }
    }

    public static func list(practice: String, in conn: isolated PostgresConnection) throws -> [Intervention] {
        try conn.query(
            """
            SELECT i.id, i.practice_ods, i.name, i.what_was_done, i.ruleset_id, coalesce(i.indicator_id, i.cohort_id), i.frozen_run_id, i.frozen_on::text,
                   i.selection, i.created_by, count(*) FILTER (WHERE m.arm = 'intervention'), count(*) FILTER (WHERE m.arm = 'comparison'), i.cohort_id
            FROM intervention i LEFT JOIN intervention_member m ON m.intervention_id = i.id
            WHERE i.practice_ods = \(practice) GROUP BY i.id ORDER BY i.id DESC
            """).map { r in
            Intervention(id: try r.decode(0), practice: try r.decode(1), name: try r.decode(2), whatWasDone: try r.decode(3), ruleset: try r.decode(4),
                         indicator: try r.decode(5), cohort: try r.decode(12, as: String?.self), frozenRun: try r.decode(6), frozenOn: Day(iso: try r.decode(7, as: String.self)) ?? .distantPast,
                         selection: try r.decode(8), createdBy: try r.decode(9), cohortSize: try r.decode(10), comparisonSize: try r.decode(11))
        }
    }

    /// Every stored count of the intervention, by extract (oldest first; its newest run), dimension and group.
    public static func results(_ id: Int64, in conn: isolated PostgresConnection) throws -> [Result] {
        try conn.query(
            """
            SELECT * FROM (
                -- One row per extract and group: the newest run of an extract (a recompute adds runs for the same data).
                SELECT DISTINCT ON (e.id, r.dimension, r.grp)
                       r.run_id, c.achievement_date::text, e.data_to::text AS data_to, r.dimension, r.grp, r.cohort_n, r.cohort_reached,
                       r.comparison_n, r.comparison_reached
                FROM intervention_result r JOIN computation_run c ON c.id = r.run_id JOIN extract e ON e.id = c.extract_id
                WHERE r.intervention_id = \(id) ORDER BY e.id, r.dimension, r.grp, r.run_id DESC
            ) newest ORDER BY data_to, run_id, dimension, grp
            """).map { r in
            Result(run: try r.decode(0), achievementDate: Day(iso: try r.decode(1, as: String.self)) ?? .distantPast,
                   dataTo: Day(iso: try r.decode(2, as: String.self)) ?? .distantPast, dimension: try r.decode(3), group: try r.decode(4),
                   cohortN: try r.decode(5), cohortReached: try r.decode(6), comparisonN: try r.decode(7), comparisonReached: try r.decode(8))
        }
    }
}

/// The difference between two shares with a 95 % interval (Newcombe's hybrid score method, from Wilson score
/// intervals for each share: sound for small groups and shares near 0 or 1, where the simple Wald interval is not).
public enum ImpactEstimate {
    public struct Difference: Sendable, Equatable {
        public var cohortShare: Double
        public var comparisonShare: Double
        public var difference: Double
        public var low: Double
        public var high: Double
    }

    static let z = 1.959963984540054

    /// Wilson's 95 % score interval for x of n.
    public static func wilson(_ x: Int, of n: Int) -> (low: Double, high: Double)? {
        guard n > 0, x >= 0, x <= n else { return nil }
        let p = Double(x) / Double(n), nn = Double(n), z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    /// p1 − p2 with Newcombe's interval; nil when either group is empty.
    public static func difference(_ x1: Int, of n1: Int, _ x2: Int, of n2: Int) -> Difference? {
        guard let (l1, u1) = wilson(x1, of: n1), let (l2, u2) = wilson(x2, of: n2) else { return nil }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let d = p1 - p2
        let low = d - ((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2)).squareRoot()
        let high = d + ((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2)).squareRoot()
        return Difference(cohortShare: p1, comparisonShare: p2, difference: d, low: low, high: high)
    }
}
