import Foundation
import RulesEngine

/// A PCN's Network Contract DES achievement on one achievement date, from its member practices' results:
/// numerators and denominators summed over the practices that were members on that date, then the IIF
/// arithmetic (`IIFPayment`) on the sums. Each practice's contribution is kept beside the PCN's figure, so a
/// PCN page can show who brought what.
public struct PCNDESAchievement: Sendable {
    /// One member practice's run of the DES ruleset.
    public struct Member: Sendable {
        public var practice: String
        public var listSize: Int
        public var indicators: [IndicatorResult]
        public init(practice: String, listSize: Int, indicators: [IndicatorResult]) {
            self.practice = practice
            self.listSize = listSize
            self.indicators = indicators
        }
    }

    /// A practice's part of one indicator.
    public struct Contribution: Sendable, Hashable, Codable {
        public var practice: String
        public var denominator: Int
        public var numerator: Int
    }

    public var pcn: String
    public var ruleset: String
    /// The PCN list: the member practices' lists summed.
    public var listSize: Int
    public var results: [IIFPayment.Result]
    /// By indicator, each practice's counts (in the order the members were given).
    public var contributions: [String: [Contribution]]
    /// Register sizes summed, by indicator.
    public var registerSizes: [String: Int]
    /// Exclusion and PCA field counts summed, by indicator and field.
    public var fields: [String: [String: Int]]
    /// National figures and indicator definitions the pounds rest on that are not confirmed.
    public var unverified: [String]

    public var points: Double { results.reduce(0) { $0 + $1.points } }
    public var maxPoints: Double { results.reduce(0) { $0 + $1.maxPoints } }
    /// nil when no indicator has pounds (no national figures).
    public var pounds: Double? {
        let p = results.compactMap(\.pounds)
        return p.isEmpty ? nil : p.reduce(0, +)
    }

    /// Sums `members` indicator by indicator (an indicator is computable for the PCN only when every member's
    /// figure is) and works out points and pounds with `figures` (pounds are left out without them).
    public static func compute(pcn: String, members: [Member], ruleset: Ruleset, figures: IIFNationalFigures?) -> PCNDESAchievement {
        var inputs: [IIFPayment.Indicator] = []
        var contributions: [String: [Contribution]] = [:]
        var registers: [String: Int] = [:], fields: [String: [String: Int]] = [:]
        for def in ruleset.indicators {
            var den = 0, num = 0, computable = true
            for m in members {
                guard let r = m.indicators.first(where: { $0.id == def.id }) else { continue }
                den += r.denominator
                num += r.numerator
                computable = computable && r.completeness.computable
                registers[def.id, default: 0] += r.registerSize
                for (f, v) in r.fields { fields[def.id, default: [:]][f, default: 0] += v }
                contributions[def.id, default: []].append(Contribution(practice: m.practice, denominator: r.denominator, numerator: r.numerator))
            }
            inputs.append(IIFPayment.Indicator(id: def.id, denominator: den, numerator: num, maxPoints: def.points,
                                               lowerThreshold: def.lowerThreshold, upperThreshold: def.upperThreshold, computable: computable))
        }
        let listSize = members.reduce(0) { $0 + $1.listSize }
        var unverified = figures?.unverified ?? []
        unverified += ruleset.indicators.filter { !$0.verified }.map { "\($0.id) points and thresholds" }
        return PCNDESAchievement(pcn: pcn, ruleset: ruleset.id, listSize: listSize, results: IIFPayment.pcn(inputs, listSize: listSize, figures: figures),
                                 contributions: contributions, registerSizes: registers, fields: fields, unverified: unverified)
    }
}

/// A PCN's DES achievement as plain JSON-ready values (for `qofd compute` and the reports).
public enum PCNDESOutput {
    public static func object(_ a: PCNDESAchievement) -> [String: Any] {
        func round(_ x: Double?, _ places: Double = 10_000) -> Any { x.map { ($0 * places).rounded() / places } ?? NSNull() }
        return [
            "pcn": a.pcn, "ruleset": a.ruleset, "listSize": a.listSize, "points": round(a.points), "maxPoints": a.maxPoints,
            "pounds": round(a.pounds, 100), "unverified": a.unverified,
            "indicators": a.results.map { r -> [String: Any] in
                [
                    "id": r.id, "denominator": r.denominator, "numerator": r.numerator, "achievement": round(r.achievement),
                    "points": round(r.points), "maxPoints": r.maxPoints, "listSizeAdjustment": round(r.listSizeAdjustment),
                    "prevalenceAdjustment": round(r.prevalenceAdjustment), "pounds": round(r.pounds, 100), "computable": r.computable,
                    "registerSize": a.registerSizes[r.id] ?? 0, "fields": a.fields[r.id] ?? [:],
                    "practices": (a.contributions[r.id] ?? []).map { ["ods": $0.practice, "denominator": $0.denominator, "numerator": $0.numerator] },
                ]
            },
        ]
    }
}
