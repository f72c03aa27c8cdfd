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

    @discardableResult
    /// Stores the summary of an extract (nothing when this extract already has one for these models); its patient
    /// level too when it carries one and `ids` are the extract's patient identifiers (its roster).
    public static func store(_ summary: PopulationSummary, extractID: Int64?, practice: String, asOf: Day, modelsSHA256: String,
                             ids: [String] = [], in conn: isolated PostgresConnection) throws -> Int64? {
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
        // One row of parallel arrays per summary (`population_count` is the view reading it a cell per row).
        try conn.copyInBinary(table: "population_cells", columns: ["run_id", "measures", "categories", "dimensions", "groups", "counts"]) { w in
            try w.beginRow(fields: 6)
            try w.append(int8: id)
            try w.appendTextArray(counts.map(\.measure))
            try w.appendTextArray(counts.map(\.category))
            try w.appendTextArray(counts.map(\.dimension))
            try w.appendTextArray(counts.map(\.group))
            try w.appendInt4Array(counts.map { Int32(clamping: $0.value) }[...])
        }
        if let patients = summary.patients, let extractID, !ids.isEmpty, try RunStore.roster(of: extractID, is: ids, in: conn) {
            try conn.copyInBinary(table: "population_patient",
                                  columns: ["run_id", "part", "extract_id", "segment_ids", "positions", "segment", "frailty", "frailty_score", "qrisk3"]) { w in
                // At most `RunStore.patientsPerSet` patients a row: no value outgrows a COPY buffer at any practice size.
                for (part, start) in stride(from: 0, to: patients.rows.count, by: RunStore.patientsPerSet).enumerated() {
                    let r = start..<min(patients.rows.count, start + RunStore.patientsPerSet)
                    try w.beginRow(fields: 9)
                    try w.append(int8: id)
                    try w.append(int4: Int32(part))
                    try w.append(int8: extractID)
                    try w.appendTextArray(patients.segmentIDs)
                    for column in [patients.rows, patients.segment, patients.frailty] { try w.appendInt4Array(column[r]) }
                    try w.appendFloat8Array(patients.frailtyScore[r])
                    try w.appendFloat8Array(patients.qrisk3[r])
                }
            }
        }
        return id
    }

    /// A patient's stored frailty and QRISK3 (codes as in `population_patient`).
    public struct PatientRisk: Sendable, Hashable {
        /// 0 not assessed; 1–4 recorded fit … severe; 5–8 estimated.
        public var frailty: Int32
        /// Percent; -1 not computed.
        public var qrisk3: Double
        public init(frailty: Int32, qrisk3: Double) {
            self.frailty = frailty
            self.qrisk3 = qrisk3
        }
        /// 0 none, 1 fit … 4 severe, recorded or estimated alike.
        public var frailtyLevel: Int { frailty == 0 ? 0 : Int((frailty - 1) % 4) + 1 }
        /// "severe frailty (estimated eFI); QRISK3 23.4 %", or "" when nothing is known.
        public var words: String {
            var parts: [String] = []
            if frailty > 0 {
                parts.append("\(["fit", "mild frailty", "moderate frailty", "severe frailty"][frailtyLevel - 1]) (\(frailty <= 4 ? "recorded" : "estimated eFI"))")
            }
            if qrisk3 >= 0 { parts.append(String(format: "QRISK3 %.1f %%", qrisk3)) }
            return parts.joined(separator: "; ")
        }
    }

    /// The stored frailty and QRISK3 of an extract's patients, by row of its roster (the newest summary with a
    /// patient level); empty when none was kept.
    public static func patientRisk(extractID: Int64, in conn: isolated PostgresConnection) throws -> [Int: PatientRisk] {
        let rows = try conn.query(
            """
            SELECT p.positions, p.frailty, p.qrisk3 FROM population_patient p
            WHERE p.run_id = (SELECT max(run_id) FROM population_patient WHERE extract_id = \(extractID))
            ORDER BY p.part
            """)
        var out: [Int: PatientRisk] = [:]
        for row in rows {
            let positions = StoredOutcomes.parsePositions(try row.decode(0, as: String.self))
            let frailty = StoredOutcomes.parsePositions(try row.decode(1, as: String.self))
            let qrisk = try row.decode(2, as: String.self).dropFirst().dropLast().split(separator: ",").compactMap { Double($0) }
            guard positions.count == frailty.count, positions.count == qrisk.count else { continue }
            for i in positions.indices { out[Int(positions[i])] = PatientRisk(frailty: frailty[i], qrisk3: qrisk[i]) }
        }
        return out
    }

    /// Whether the extract has a summary made with these models and code lists.
    public static func exists(extractID: Int64, modelsSHA256: String, in conn: isolated PostgresConnection) throws -> Bool {
        try !conn.query("SELECT 1 FROM population_run WHERE extract_id = \(extractID) AND models_sha256 = \(modelsSHA256)").isEmpty
    }

    /// The summary stored with an extract (the newest, if the models changed since).
    /// `dimension`: only that breakdown's cells (a report reads "all" alone).
    public static func forExtract(_ extractID: Int64, dimension: String? = nil, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let id = try conn.query("SELECT id FROM population_run WHERE extract_id = \(extractID) ORDER BY id DESC LIMIT 1").first?.decode(0, as: Int64.self)
        else { return nil }
        return try load(id, dimension: dimension, in: conn)
    }

    /// The practice's latest summary (by the date it describes, then the newest).
    public static func latest(practice: String, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let id = try conn.query(
            "SELECT id FROM population_run WHERE practice_ods = \(practice) ORDER BY as_of DESC, id DESC LIMIT 1"
        ).first?.decode(0, as: Int64.self) else { return nil }
        return try load(id, in: conn)
    }

    static func load(_ id: Int64, dimension: String? = nil, in conn: isolated PostgresConnection) throws -> (Run, [PopulationSummary.Count])? {
        guard let r = try conn.query(
            "SELECT id, practice_ods, as_of::text, list_size, models_sha256 FROM population_run WHERE id = \(id)"
        ).first else { return nil }
        let run = Run(id: try r.decode(0), practice: try r.decode(1), asOf: Day(iso: try r.decode(2, as: String.self)) ?? .distantPast,
                      listSize: try r.decode(3), modelsSHA256: try r.decode(4))
        let counts = try conn.query(
            """
            SELECT measure, category, dimension, grp, value FROM population_count
            WHERE run_id = \(run.id) AND (\(dimension)::text IS NULL OR dimension = \(dimension)) ORDER BY measure, category, dimension, grp
            """
        ).map { PopulationSummary.Count(measure: try $0.decode(0), category: try $0.decode(1), dimension: try $0.decode(2), group: try $0.decode(3),
                                        value: try $0.decode(4)) }
        return (run, counts)
    }
}
