import Clinical
import Foundation
import RulesEngine
import Storage

/// This week's work for a practice: the patients one contact would do most for, across every indicator they
/// are open in (one blood pressure can close HYP008, CHD015 and DM036 together), from the stored run's
/// figures and its stored patient outcomes, never a re-evaluation.
///
/// What a patient is worth for an indicator is the indicator's pounds at stake shared over the patients it
/// still needs to reach its upper threshold (the average value of one more patient achieving, which is what
/// the threshold scale pays); an indicator at or above its upper threshold is worth nothing more this year.
/// Indicators whose figure cannot be computed are left out: their 0 % is not a measurement.
public struct ThisWeek: Sendable {
    /// One indicator's share of the work.
    public struct IndicatorValue: Sendable {
        public var id: String
        public var describe: String
        /// Patients still needed to reach the upper threshold.
        public var patientsToUpper: Int
        public var patientsForNextPoint: Int?
        /// Pounds one more achieving patient is worth, on average, up to the upper threshold.
        public var poundsPerPatient: Double
        public var poundsAtStake: Double
        /// Said beside the figure when some of its code lists are stand-ins or missing (it may be higher or lower).
        public var completeness: String?
    }

    /// One patient and what contacting them would close.
    public struct Patient: Sendable {
        public var row: Int
        public var indicators: [String]
        public var pounds: Double
    }

    public var indicators: [IndicatorValue]
    public var patients: [Patient]

    /// - Parameters:
    ///   - figures: the run's stored figures (pounds at stake, thresholds, counts).
    ///   - outcomes: the run's patients for each indicator (by population row), from its stored outcome sets.
    public init(figures: StoredFigures, ruleset: Ruleset, outcomes: (String) -> [Int: PatientOutcome]) {
        let definitions = Dictionary(ruleset.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var values: [IndicatorValue] = []
        for r in figures.indicators where r.completeness.computable {
            guard let def = definitions[r.id], def.payment == .threshold, let atStake = r.poundsAtStake, atStake > 0.005, r.denominator > 0 else { continue }
            let upper = r.upperThreshold ?? def.upperThreshold
            let needed = max(0, Int((upper / 100 * Double(r.denominator)).rounded(.up)) - r.numerator)
            guard needed > 0 else { continue }
            values.append(IndicatorValue(id: r.id, describe: def.describe, patientsToUpper: needed, patientsForNextPoint: r.patientsForNextPoint,
                                         poundsPerPatient: atStake / Double(needed), poundsAtStake: atStake,
                                         completeness: r.completeness.status == .complete ? nil : r.completeness.words))
        }
        values.sort { ($0.poundsPerPatient, $1.id) > ($1.poundsPerPatient, $0.id) }
        var byPatient: [Int: (indicators: [String], pounds: Double)] = [:]
        for v in values {
            for (row, o) in outcomes(v.id) where o.outcome == .denominator {
                byPatient[row, default: ([], 0)].indicators.append(v.id)
                byPatient[row, default: ([], 0)].pounds += v.poundsPerPatient
            }
        }
        indicators = values
        patients = byPatient.map { Patient(row: $0.key, indicators: $0.value.indicators, pounds: $0.value.pounds) }
            .sorted { ($0.pounds, $0.indicators.count, -$0.row) > ($1.pounds, $1.indicators.count, -$1.row) }
    }
}
