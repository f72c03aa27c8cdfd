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
        /// PCA and exclusion fields with their counts (both leave the denominator).
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
        /// A vaccination cohort's counts inside the denominator (vaccinated by the practice, elsewhere,
        /// declined, …): never exclusions.
        public var tallies: [String: Int] = [:]
        /// Uptake target in percent (vaccination cohorts), as stored with the run.
        public var target: Double?
        public var poundsAvailable: Double?
        /// Nil when there are no pounds or the figure cannot be computed.
        public var poundsAtStake: Double?
        public var patientsForNextPoint: Int?
        public var completeness: Completeness = .complete
        /// The register's name as CQRS files carry it (e.g. "Hypertension Register").
        public var registerName: String = ""
        /// True for an income-protected indicator: paid at last year's points, not computed, so not in CQRS values.
        public var incomeProtected: Bool? = nil
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
    /// Pounds between achievement and the upper thresholds, over the indicators that can be computed.
    public var poundsAtStake: Double? = nil
    /// What remains to earn on indicators whose code lists are missing: not at stake, not known.
    public var poundsNotAssessed: Double? = nil
    /// National figures used that are not verified.
    public var unverifiedFigures: [String] = []
    /// qof, programme or des.
    public var rulesetKind: String = "qof"
    /// Whether the run has pounds at all (national figures exist for it).
    public var hasPounds: Bool = true
    /// The population summary of the extract the run was made from (nil for runs without one).
    public var population: Population? = nil

    /// A short population health summary: counts over the whole list, from the summary stored with the extract.
    public struct Population: Sendable, Codable, Hashable {
        public struct Line: Sendable, Codable, Hashable {
            public var label: String
            public var patients: Int
        }
        public var asOf: String
        public var listSize: Int
        public var segments: [Line]
        public var frailty: [Line]
        public var qrisk3: [Line]
    }

    /// Indicators whose figure cannot be computed, and those with any missing code list.
    public var notComputable: [String] { indicators.filter { !$0.completeness.computable }.map(\.id) }
    public var incomplete: [String] { indicators.filter { $0.completeness.status == .missing }.map(\.id) }

    /// The summary stored with the extract (immutable, so a declared report reads the same figures again).
    static func population(extract: Int64, in conn: isolated PostgresConnection) throws -> Population? {
        guard let (run, counts) = try PopulationStore.forExtract(extract, dimension: "all", in: conn) else { return nil }
        func lines(_ measure: String) -> [Population.Line] {
            counts.filter { $0.measure == measure && $0.dimension == "all" }.map { Population.Line(label: $0.category, patients: $0.value) }
        }
        return Population(asOf: run.asOf.description, listSize: run.listSize, segments: lines("segment"), frailty: lines("frailty"), qrisk3: lines("qrisk3"))
    }

    /// Builds the report for a practice's latest run (`declared`: the declared run, whose snapshot hash it carries).
    /// Every figure is read as the pipeline stored it; nothing is recomputed here.
    public static func load(
        practice: String, ruleset: Ruleset, achievementDate: Day, declared: Bool = false, subjects withSubjects: Bool = false,
        in conn: isolated PostgresConnection
    ) throws -> ReportData? {
        let subject = DeclarationStore.Subject(practice: practice, ruleset: ruleset.id, achievementDate: achievementDate)
        let runID: Int64
        var snapshotSHA256: String?
        if declared {
            guard let snapshot = try DeclarationStore.declaredSnapshot(subject, in: conn) else { return nil }
            runID = snapshot.runID
            snapshotSHA256 = snapshot.sha256
        } else {
            guard let id = try StoredFigures.latestRunID(practice: practice, ruleset: ruleset.id, on: achievementDate, in: conn) else { return nil }
            runID = id
        }
        guard let figures = try StoredFigures.load(run: runID, in: conn) else { return nil }
        let state = try DeclarationStore.state(subject, in: conn)
        let org = try PracticeHistory.organisation(practice, on: achievementDate, in: conn)
        let previous = try PracticeHistory.achievements(ofRunBefore: runID, in: conn)
        let lastYear = try PracticeHistory.achievements(
            practice: practice, family: ruleset.family, on: achievementDate.adding(years: -1), in: conn)
        let definitions = Dictionary(ruleset.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var indicators: [Indicator] = []
        for i in figures.indicators {
            guard let def = definitions[i.id] else { continue }
            indicators.append(Indicator(
                id: i.id, describe: def.describe, group: def.group, register: def.register, registerSize: i.registerSize,
                denominator: i.denominator, numerator: i.numerator, pcas: i.fields(.pca), exclusions: i.fields(.exclusion),
                achievement: i.achievement, lowerThreshold: i.lowerThreshold ?? def.lowerThreshold, upperThreshold: i.upperThreshold ?? def.upperThreshold,
                points: i.points, maxPoints: i.maxPoints, pounds: i.pounds,
                changeSincePreviousRun: i.achievement.flatMap { a in previous[i.id].map { a - $0 } },
                changeSinceLastYear: i.achievement.flatMap { a in lastYear[i.id].map { a - $0 } }, verified: def.verified,
                tallies: i.fields(.tally), target: i.target ?? def.target?.percent, poundsAvailable: i.poundsAvailable,
                poundsAtStake: i.poundsAtStake, patientsForNextPoint: i.patientsForNextPoint, completeness: i.completeness,
                registerName: ruleset.cqrsRegisterLabel(def) ?? "", incomeProtected: def.payment == .protected ? true : nil))
        }
        var subjects: [String: [String: [String]]]?
        if withSubjects {
            subjects = try PracticeHistory.patientLists(run: runID, in: conn)
        }
        return ReportData(
            practice: practice, practiceName: org?.name ?? practice, pcn: org?.pcn,
            ruleset: ruleset.id, rulesetTitle: ruleset.title, achievementDate: achievementDate.description, runID: runID,
            listSize: figures.listSize, pointsAchieved: figures.pointsAchieved, pointsAvailable: figures.pointsAvailable,
            pounds: figures.pounds ?? 0, poundsAvailable: figures.poundsAvailable ?? 0, state: state.words,
            lastYearPounds: figures.lastYearPounds, aspiration: figures.aspiration, balance: figures.balance,
            snapshotSHA256: snapshotSHA256, indicators: indicators, subjects: subjects, poundsAtStake: figures.poundsAtStake,
            poundsNotAssessed: figures.poundsNotAssessed, unverifiedFigures: figures.unverifiedFigures, rulesetKind: ruleset.kind.rawValue,
            hasPounds: figures.paymentYear != nil, population: try figures.extractID.flatMap { try Self.population(extract: $0, in: conn) })
    }
}

