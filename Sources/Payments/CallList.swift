import Clinical
import Foundation
import RulesEngine

/// Who to invite for vaccination, in order: each cohort's patients still to vaccinate (not vaccinated, not
/// declined), in the cohort order the ruleset's `call_list` gives (highest clinical priority first), then the
/// most deprived areas, then the oldest. A patient eligible for several cohorts appears once, under the
/// first. Patient-identifiable.
public enum FluCallList {
    public struct Entry: Sendable, Hashable {
        public var cohort: String
        public var patient: String
        public var nhsNumber: String
        public var age: Int
        /// IMD decile of the patient's LSOA (1 = most deprived); nil when unknown.
        public var imdDecile: Int?
        public var lsoa: String
    }

    /// - Parameters:
    ///   - result: an evaluation of a programme ruleset with patient outcomes.
    ///   - callList: the ruleset's call list (an empty list without one).
    ///   - deciles: IMD decile by LSOA code.
    public static func build(_ result: PracticeResult, callList: Ruleset.CallList?, population: Population, ageOn: Day, deciles: [String: Int]) -> [Entry] {
        guard let callList else { return [] }
        let cohortOrder = callList.order
        var chosen: [String: String] = [:]
        for o in result.patients ?? [] where o.outcome == .denominator && o.field == callList.field {
            let current = chosen[o.patient].flatMap { cohortOrder.firstIndex(of: $0) } ?? Int.max
            if let rank = cohortOrder.firstIndex(of: o.indicator), rank < current { chosen[o.patient] = o.indicator }
        }
        let index = Dictionary(uniqueKeysWithValues: population.patientIDs.enumerated().map { ($1, $0) })
        let entries = chosen.compactMap { patient, cohort -> Entry? in
            guard let p = index[patient] else { return nil }
            let lsoa = population.lsoa[p] >= 0 ? population.lsoaCodes[Int(population.lsoa[p])] : ""
            return Entry(cohort: cohort, patient: patient, nhsNumber: population.nhsNumbers[p] == 0 ? "" : String(format: "%010llu", population.nhsNumbers[p]),
                         age: population.birthDates[p].age(on: ageOn), imdDecile: deciles[lsoa], lsoa: lsoa)
        }
        return entries.sorted {
            (cohortOrder.firstIndex(of: $0.cohort)!, $0.imdDecile ?? 11, -$0.age, $0.patient)
                < (cohortOrder.firstIndex(of: $1.cohort)!, $1.imdDecile ?? 11, -$1.age, $1.patient)
        }
    }

    public static func csv(_ entries: [Entry]) -> String {
        "cohort,patient_id,nhs_number,age,imd_decile,lsoa\n"
            + entries.map { CSVCell.row([$0.cohort, $0.patient, $0.nhsNumber, String($0.age), $0.imdDecile.map(String.init) ?? "", $0.lsoa]) + "\n" }.joined()
    }
}
