import Clinical
import Clusters
import ReferenceData
import RulesEngine

/// Achievement broken down by who the patients are: deprivation quintile (IMD of the patient's
/// LSOA), ethnic group, sex and age band, with the gap between the most and least deprived fifths.
/// Figures shown beyond the practice pass through `Suppression`.
public struct Inequalities: Sendable {
    public struct Group: Sendable {
        public var label: String
        public var denominator: Int
        public var numerator: Int
        public var percent: Double? { denominator > 0 ? 100 * Double(numerator) / Double(denominator) : nil }
    }

    public struct Dimension: Sendable {
        public var name: String
        public var groups: [Group]
    }

    public var indicator: String
    public var dimensions: [Dimension]

    /// Tallies the patients in the denominator of `indicator` (numerator or not) by each dimension.
    public init(_ s: PracticeSnapshot, indicator: String, deprivation: Deprivation, ethnicGroups: EthnicGroups) {
        self.indicator = indicator
        let p = s.population
        var quintiles = [String: (Int, Int)](), ethnic = [String: (Int, Int)](), sexes = [String: (Int, Int)](), ages = [String: (Int, Int)]()
        func add(_ d: inout [String: (Int, Int)], _ key: String, _ achieved: Bool) {
            let c = d[key] ?? (0, 0)
            d[key] = (c.0 + 1, c.1 + (achieved ? 1 : 0))
        }
        for (i, o) in s.outcomes(of: indicator) where o.outcome == .numerator || o.outcome == .denominator {
            let achieved = o.outcome == .numerator
            let lsoa = p.lsoa[i] >= 0 ? p.lsoaCodes[Int(p.lsoa[i])] : nil
            add(&quintiles, lsoa.flatMap { deprivation.areas[$0] }.map { Self.quintileLabel($0.quintile) } ?? "Not known", achieved)
            add(&ethnic, p.ethnicity[i] >= 0 ? ethnicGroups[p.codes[p.ethnicity[i]]] ?? "Other or not stated" : "Not recorded", achieved)
            add(&sexes, ["M": "Male", "F": "Female"][p.sexes[i].letter] ?? "Other or unknown", achieved)
            add(&ages, Self.ageBand(p.birthDates[i].age(on: s.compiled.ageOn)), achieved)
        }
        func groups(_ d: [String: (Int, Int)], order: [String]) -> [Group] {
            let known = order.compactMap { k in d[k].map { Group(label: k, denominator: $0.0, numerator: $0.1) } }
            let rest = d.keys.filter { !order.contains($0) }.sorted().map { Group(label: $0, denominator: d[$0]!.0, numerator: d[$0]!.1) }
            return known + rest
        }
        dimensions = [
            Dimension(name: "Deprivation (IMD quintile of the patient's area)", groups: groups(quintiles, order: (1...5).map(Self.quintileLabel) + ["Not known"])),
            Dimension(name: "Ethnic group", groups: groups(ethnic, order: [])),
            Dimension(name: "Sex", groups: groups(sexes, order: ["Female", "Male"])),
            Dimension(name: "Age band", groups: groups(ages, order: ["0-17", "18-39", "40-64", "65-79", "80+"])),
        ]
    }

    static func quintileLabel(_ q: Int) -> String {
        q == 1 ? "1 (most deprived)" : q == 5 ? "5 (least deprived)" : String(q)
    }

    static func ageBand(_ age: Int) -> String {
        switch age {
        case ..<18: return "0-17"
        case ..<40: return "18-39"
        case ..<65: return "40-64"
        case ..<80: return "65-79"
        default: return "80+"
        }
    }

    /// Most deprived fifth's achievement minus the least deprived fifth's, in percentage points
    /// (suppressed figures give no gap).
    public func deprivationGap(suppressed: Bool) -> Double? {
        guard let groups = dimensions.first?.groups,
            let most = groups.first(where: { $0.label == Self.quintileLabel(1) }),
            let least = groups.first(where: { $0.label == Self.quintileLabel(5) })
        else { return nil }
        if suppressed {
            guard let a = Suppression.percent(most.numerator, of: most.denominator),
                let b = Suppression.percent(least.numerator, of: least.denominator) else { return nil }
            return a - b
        }
        guard let a = most.percent, let b = least.percent else { return nil }
        return a - b
    }
}
