import Clinical
import Foundation
import Postgres
import RulesEngine
import Storage

/// Everything a declaration report shows for one practice, assembled once and rendered in several
/// formats. Built from stored runs (or a declared snapshot), so a report is always what the database
/// holds, and a declared report can be reproduced byte for byte.
public struct ReportData: Sendable, Codable {
    public struct Indicator: Sendable, Codable {
        public var id: String
        public var describe: String
        public var group: String
        public var register: String
        public var registerSize: Int
        public var denominator: Int
        public var numerator: Int
        /// PCA and exclusion fields with their counts.
        public var pcas: [String: Int]
        public var exclusions: [String: Int]
        public var achievement: Double?
        public var lowerThreshold: Double
        public var upperThreshold: Double
        public var points: Double
        public var maxPoints: Double
        public var pounds: Double?
        /// Achievement change in percentage points since the previous run and since the same date last year.
        public var changeSincePreviousRun: Double?
        public var changeSinceLastYear: Double?
        public var verified: Bool
    }

    public var practice: String
    public var practiceName: String
    public var pcn: String?
    public var ruleset: String
    public var rulesetTitle: String
    public var achievementDate: String
    public var runID: Int64
    public var listSize: Int
    public var pointsAchieved: Double
    public var pointsAvailable: Double
    public var pounds: Double
    public var poundsAvailable: Double
    public var state: String
    /// Last year's year-end pounds: the practice's latest run at the previous payment period end, made
    /// before this run (so a declared report reads the same figure again).
    public var lastYearPounds: Double?
    /// Paid through the year in advance (the aspiration share of last year's pounds), and what remains
    /// due at year end; present when last year's run and the aspiration share are known.
    public var aspiration: Double?
    public var balance: Double?
    public var snapshotSHA256: String?
    public var indicators: [Indicator]
    /// Patient ids per indicator per population (numerator, denominator, pca, excluded); only for a
    /// subject-list report, which is patient-identifiable and asked for explicitly.
    public var subjects: [String: [String: [String]]]?

    /// Builds the report for a practice's latest run (`declared`: from its declaration snapshot instead).
    public static func load(
        practice: String, ruleset: Ruleset, achievementDate: Day, declared: Bool = false, subjects withSubjects: Bool = false,
        aspirationPercent: Double? = nil, in conn: isolated PostgresConnection
    ) throws -> ReportData? {
        let subject = DeclarationStore.Subject(practice: practice, ruleset: ruleset.id, achievementDate: achievementDate)
        // A declared report reads its snapshot; any other the run's figures directly (no canonical bytes needed).
        let object: SnapshotBody
        let runID: Int64
        var snapshotSHA256: String?
        if declared {
            guard let snapshot = try DeclarationStore.declaredSnapshot(subject, in: conn) else { return nil }
            object = try JSONDecoder().decode(SnapshotBody.self, from: snapshot.json)
            runID = snapshot.runID
            snapshotSHA256 = snapshot.sha256
        } else {
            guard let figures = try DeclarationStore.latestFigures(subject, in: conn) else { return nil }
            object = SnapshotBody(figures)
            runID = figures.runID
        }
        let state = try DeclarationStore.state(subject, in: conn)
        let org = try PracticeHistory.organisation(practice, on: achievementDate, in: conn)
        // Achievement of the run before this one, and of the latest run for the same date a year earlier.
        func achievements(_ sql: PostgresQuery) throws -> [String: Double] {
            var out: [String: Double] = [:]
            for r in try conn.query(sql) { if let a = try r.decode(1, as: Double?.self) { out[try r.decode(0, as: String.self)] = a } }
            return out
        }
        let date = PostgresDate(achievementDate)
        let previous = try achievements(
            """
            SELECT indicator_id, achievement::float8 FROM indicator_result WHERE run_id = (
                SELECT id FROM computation_run WHERE practice_ods = \(practice) AND ruleset_id = \(ruleset.id)
                  AND achievement_date = \(date) AND id < \(runID) ORDER BY id DESC LIMIT 1)
            """)
        let lastYearDay = achievementDate.adding(years: -1)
        let lastYear = try achievements(
            """
            SELECT indicator_id, achievement::float8 FROM indicator_result WHERE run_id = (
                SELECT id FROM computation_run WHERE practice_ods = \(practice)
                  AND achievement_date = \(PostgresDate(lastYearDay))
                ORDER BY id DESC LIMIT 1)
            """)
        let family = (ruleset.id.split(separator: "-").first.map(String.init) ?? ruleset.id) + "-%"
        let lastYearPounds = try conn.query(
            """
            SELECT sum(pounds)::float8 FROM indicator_result WHERE run_id = (
                SELECT id FROM computation_run WHERE practice_ods = \(practice) AND ruleset_id LIKE \(family)
                  AND achievement_date = \(PostgresDate(ruleset.payPeriodEnd.adding(years: -1))) AND id < \(runID)
                ORDER BY id DESC LIMIT 1)
            """).first.flatMap { try? $0.decode(0, as: Double?.self) }
        let aspiration = lastYearPounds.flatMap { pounds in aspirationPercent.map { pounds * $0 / 100 } }
        let definitions = Dictionary(uniqueKeysWithValues: ruleset.indicators.map { ($0.id, $0) })
        var indicators: [Indicator] = []
        for i in object.indicators {
            let id = i.id
            guard let def = definitions[id] else { continue }
            let fields = i.fields ?? [:]
            let kinds = Dictionary((def.denominator.rules + def.numerator.rules).compactMap { r in r.field.map { ($0, r.kind) } }, uniquingKeysWith: { a, _ in a })
            let achievement = i.achievement?.value
            indicators.append(Indicator(
                id: id, describe: def.describe, group: def.group, register: def.register, registerSize: i.registerSize ?? 0,
                denominator: i.denominator ?? 0, numerator: i.numerator ?? 0,
                pcas: fields.filter { kinds[$0.key] == .pca }, exclusions: fields.filter { kinds[$0.key] != .pca },
                achievement: achievement, lowerThreshold: def.lowerThreshold, upperThreshold: def.upperThreshold,
                points: i.points?.value ?? 0, maxPoints: i.maxPoints?.value ?? def.points, pounds: i.pounds?.value,
                changeSincePreviousRun: achievement.flatMap { a in previous[id].map { a - $0 } },
                changeSinceLastYear: achievement.flatMap { a in lastYear[id].map { a - $0 } }, verified: def.verified))
        }
        var subjects: [String: [String: [String]]]?
        if withSubjects {
            var lists: [String: [String: [String]]] = [:]
            for r in try conn.query(
                "SELECT indicator_id, outcome, patient_id FROM patient_outcome WHERE run_id = \(runID) ORDER BY indicator_id, outcome, patient_id")
            {
                lists[try r.decode(0, as: String.self), default: [:]][try r.decode(1, as: String.self), default: []].append(try r.decode(2, as: String.self))
            }
            subjects = lists
        }
        let available = indicators.filter { $0.registerSize > 0 }
        let pounds = indicators.reduce(0) { $0 + ($1.pounds ?? 0) }
        return ReportData(
            practice: practice, practiceName: org?.name ?? practice, pcn: org?.pcn,
            ruleset: ruleset.id, rulesetTitle: ruleset.title, achievementDate: achievementDate.description, runID: runID,
            listSize: object.listSize ?? 0, pointsAchieved: indicators.reduce(0) { $0 + $1.points },
            pointsAvailable: available.reduce(0) { $0 + $1.maxPoints }, pounds: pounds,
            poundsAvailable: available.reduce(0) { total, i in
                guard let p = i.pounds, i.points > 0 else { return total }
                return total + p / i.points * i.maxPoints
            },
            state: state.words, lastYearPounds: lastYearPounds, aspiration: aspiration, balance: aspiration.map { pounds - $0 },
            snapshotSHA256: snapshotSHA256, indicators: indicators, subjects: subjects)
    }
}

/// The stored snapshot of a run as the report reads it (written by `DeclarationStore`: numbers as text
/// so that its bytes, and so its hash, never depend on float formatting).
private struct SnapshotBody: Decodable {
    /// A number written as text, or as a number by an older snapshot.
    struct Number: Decodable {
        var value: Double?
        init(_ text: String?) { value = text.flatMap(Double.init) }
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { value = nil } else if let s = try? c.decode(String.self) { value = Double(s) } else { value = try c.decode(Double.self) }
        }
    }
    struct Row: Decodable {
        var id: String
        var registerSize: Int?
        var denominator: Int?
        var numerator: Int?
        var achievement: Number?
        var points: Number?
        var maxPoints: Number?
        var pounds: Number?
        var fields: [String: Int]?
    }
    var listSize: Int?
    var indicators: [Row]

    init(_ f: DeclarationStore.RunFigures) {
        listSize = f.listSize
        indicators = f.indicators.map { i in
            Row(id: i.id, registerSize: i.registerSize, denominator: i.denominator, numerator: i.numerator,
                achievement: Number(i.achievement), points: Number(i.points), maxPoints: Number(i.maxPoints), pounds: Number(i.pounds),
                fields: i.fields)
        }
    }
}
