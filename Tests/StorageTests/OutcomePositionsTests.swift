import Clinical
import Postgres
import RulesEngine
import Storage
import Testing
import TestSupport

/// An extract's patients are stored once; each run's outcome sets are positions in that roster; the
/// `patient_outcome` view, the subject lists and retention read and prune both forms.
@Suite("Patient outcomes stored once per extract")
struct OutcomePositionsTests {
    static let practice = PracticeInfo(ods: "A81001", name: "T")
    static let day = Day(year: 2026, month: 3, day: 31)!

    static func claim(_ name: String, in conn: PostgresConnection) async throws -> Int64 {
        let identity = ExtractQueue.Identity(sha256: String(repeating: String(name.last!), count: 64), practice: practice,
                                             sourceName: name, system: "test", encoding: "csv", extractedAt: "2026-04-01T06:00:00Z", dataTo: day)
        return try await conn.withTransaction { c -> Int64 in
            guard case .claimed(let id, _) = try ExtractQueue.claim(identity, worker: "w", leaseSeconds: 60, in: c) else { throw CancellationError() }
            return id
        }
    }

    static func run(_ ids: [String], outcomes: [(Int, Outcome)], extract: Int64?, ruleset: String = "qof-2025-26", numerator: Int? = nil) -> RunRecord {
        let sets = Dictionary(grouping: outcomes, by: { $0.1 }).map { outcome, members in
            PatientOutcomeSet(indicator: "HYP008", outcome: outcome, rule: outcome == .numerator ? "numerator 1" : "denominator 9", field: nil,
                              members: members.map { Int32($0.0) })
        }
        let n = numerator ?? outcomes.filter { $0.1 == .numerator }.count
        let indicator = IndicatorResult(id: "HYP008", register: "HYP_REG", registerSize: outcomes.count, denominator: outcomes.count, numerator: n,
                                        fields: [:], fieldKinds: [:], achievement: 100 * Double(n) / Double(outcomes.count), points: 0, maxPoints: 0, ruleCounts: [])
        let result = PracticeResult(ods: practice.ods, pcn: nil, listSize: ids.count, registers: [RegisterResult(id: "HYP_REG", size: outcomes.count)],
                                    indicators: [indicator], outcomeSets: sets, patientIDs: ids)
        return RunRecord(extractID: extract, practice: practice, rulesetID: ruleset, rulesetSHA256: "x", clusterVersion: "c",
                         achievementDate: day, result: result, engineVersion: "e")
    }

    static func store(_ record: RunRecord, in conn: PostgresConnection) async throws -> Int64 {
        try await conn.withTransaction { c in try RunStore.store(record, in: c) }
    }

    static func view(_ run: Int64, in conn: PostgresConnection) async throws -> [String] {
        try await conn.query("SELECT patient_id, outcome FROM patient_outcome WHERE run_id = \(run) ORDER BY 1")
            .map { "\(try $0.decode(0, as: String.self))|\(try $0.decode(1, as: String.self))" }
    }

    @Test("the runs of one extract store its patients once and their outcomes as positions; the view reads them back")
    func positions() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let extract = try await Self.claim("A81001-1", in: conn)
        let ids = ["P\"1", "P,2", "{P3}", "Pé4", "P5"]
        let outcomes: [(Int, Outcome)] = [(0, .numerator), (2, .denominator), (3, .numerator), (4, .denominator)]
        let qof = try await Self.store(Self.run(ids, outcomes: outcomes, extract: extract), in: conn)
        let flu = try await Self.store(Self.run(ids, outcomes: [(1, .numerator)], extract: extract, ruleset: "flu-2025-26"), in: conn)
        #expect(try await conn.query("SELECT count(*), min(patient_count) FROM extract_roster").first.map { [try $0.decode(0, as: Int.self), try $0.decode(1, as: Int.self)] } == [1, 5])
        #expect(try await conn.query("SELECT count(*) FROM patient_outcome_set WHERE patients IS NOT NULL")[0].decode(0, as: Int.self) == 0,
                "no identifier repeated in a run")
        #expect(try await Self.view(qof, in: conn) == ["P\"1|numerator", "P5|denominator", "Pé4|numerator", "{P3}|denominator"].sorted())
        #expect(try await Self.view(flu, in: conn) == ["P,2|numerator"])
        let lists = try await conn.withTransaction { c in try PracticeHistory.patientLists(run: qof, in: c) }
        #expect(lists["HYP008"]?["numerator"]?.sorted() == ["P\"1", "Pé4"])

        // A run of the same extract whose patients are not the roster (another order) keeps text identifiers, and reads right.
        let other = try await Self.store(Self.run(ids.reversed(), outcomes: [(0, .numerator)], extract: extract, ruleset: "shingles-2025-26"), in: conn)
        #expect(try await conn.query("SELECT count(*) FROM patient_outcome_set WHERE run_id = \(other) AND patients IS NOT NULL")[0].decode(0, as: Int.self) == 1)
        #expect(try await Self.view(other, in: conn) == ["P5|numerator"])
    }

    @Test("a run with the figures of the run before it for the same date is told apart from one whose figures changed")
    func figuresFingerprint() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let first = try await Self.claim("A81001-1", in: conn)
        let second = try await Self.claim("A81001-2", in: conn)
        let third = try await Self.claim("A81001-3", in: conn)
        let ids = ["P1", "P2", "P3"]
        let unchanged = { (c: PostgresConnection) in
            try await c.withTransaction { t in try PracticeHistory.figuresUnchanged(practice: "A81001", ruleset: "qof-2025-26", achievementDate: Self.day, in: t) }
        }
        _ = try await Self.store(Self.run(ids, outcomes: [(0, .numerator), (1, .denominator)], extract: first), in: conn)
        #expect(try await unchanged(conn) == false, "a first run has nothing to be the same as")
        _ = try await Self.store(Self.run(ids, outcomes: [(0, .numerator), (1, .denominator)], extract: second), in: conn)
        #expect(try await unchanged(conn) == true)
        _ = try await Self.store(Self.run(ids, outcomes: [(0, .numerator), (1, .numerator)], extract: third), in: conn)
        #expect(try await unchanged(conn) == false)
    }

    @Test("retention removes old runs' positions and the rosters nothing points into any more")
    func retention() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        let extract = try await Self.claim("A81001-1", in: conn)
        _ = try await Self.store(Self.run(["P1", "P2"], outcomes: [(0, .numerator)], extract: extract), in: conn)
        let kept = try await conn.withTransaction { c in try PatientOutcomeRetention.purge(before: Self.day, in: c) }
        #expect(kept == 0)
        #expect(try await conn.query("SELECT count(*) FROM extract_roster")[0].decode(0, as: Int.self) == 1)
        let purged = try await conn.withTransaction { c in try PatientOutcomeRetention.purge(before: Self.day.adding(days: 1), in: c) }
        #expect(purged == 1)
        #expect(try await conn.query("SELECT count(*) FROM extract_roster")[0].decode(0, as: Int.self) == 0)
        #expect(try await conn.query("SELECT count(*) FROM indicator_result")[0].decode(0, as: Int.self) == 1, "aggregates stay")
    }
}
