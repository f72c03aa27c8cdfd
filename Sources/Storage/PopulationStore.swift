import Clinical
import Foundation
import Postgres
import Stratification

/// Population health aggregates in the database: one summary per extract and model version, read back for
/// the population pages and `qofd population`.
public enum PopulationStore {
    /// A stored summary's heading.
    public struct Run: Sendable {
        public var id: Int64
        public var practice: String
        public var asOf: Day
        public var listSize: Int
        public var modelsSHA256: String
    }

    /// Stores the summary of an extract (nothing when this extract already has one for these models).
    @discardableResult
    public static func store(_ summary: PopulationSummary, extractID: Int64?, practice: String, asOf: Day, modelsSHA256: String,
                             in conn: isolated PostgresConnection) throws -> Int64? {
        let rows = try conn.query(
            """
            INSERT INTO population_run (extract_id, practice_ods, as_of, models_sha256, list_size)
            VALUES (\(extractID), \(practice), \(PostgresDate(asOf)), \(modelsSHA256), \(summary.listSize))
            ON CONFLICT (extract_id, models_sha256) DO NOTHING
            RETURNING id
            """)
        guard let row = rows.first else { return nil }
        let id = try row.decode(0, as: Int64.self)
        let counts = summary.counts
        try conn.copyIn(table: "population_count", columns: ["run_id", "measure", "category", "dimension", "grp", "value"]) { w in
            for c in counts {
                try w.append(Int(id))
                try w.append(c.measure)
                try w.append(c.category)
                try w.append(c.dimension)
                try w.append(c.group)
                try w.append(c.value)
                try w.endRow()
            }
        }
        return id
    }

    /// The summary stored with an extract (the newest, if the models changed since).
    public static func forExtract(_ extractID: Int64, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let id = try conn.query("SELECT id FROM population_run WHERE extract_id = \(extractID) ORDER BY id DESC LIMIT 1").first?.decode(0, as: Int64.self)
        else { return nil }
        return try load(id, in: conn)
    }

    /// The practice's latest summary (by the date it describes, then the newest).
    public static func latest(practice: String, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let id = try conn.query(
            "SELECT id FROM population_run WHERE practice_ods = \(practice) ORDER BY as_of DESC, id DESC LIMIT 1"
        ).first?.decode(0, as: Int64.self) else { return nil }
        return try load(id, in: conn)
    }

    static func load(_ id: Int64, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let r = try conn.query(
            "SELECT id, practice_ods, as_of::text, list_size, models_sha256 FROM population_run WHERE id = \(id)"
        ).first else { return nil }
        let run = Run(id: try r.decode(0), practice: try r.decode(1), asOf: Day(iso: try r.decode(2, as: String.self)) ?? .distantPast,
                      listSize: try r.decode(3), modelsSHA256: try r.decode(4))
        let counts = try conn.query(
            "SELECT measure, category, dimension, grp, value FROM population_count WHERE run_id = \(run.id) ORDER BY measure, category, dimension, grp"
        ).map { PopulationSummary.Count(measure: try $0.decode(0), category: try $0.decode(1), dimension: try $0.decode(2), group: try $0.decode(3),
                                        value: try $0.decode(4)) }
        return (run, counts)
    }
}
