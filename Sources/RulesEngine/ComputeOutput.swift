import Foundation

/// The stable output of `qofd compute` (documented in deploy/compute-output.md).
public struct ComputeOutput: Sendable {
    public var ruleset: String
    public var rulesetSHA256: String
    public var achievementDate: String
    public var clusterVersion: String
    public var missingClusters: [String]
    public var practices: [PracticeResult]

    public init(ruleset: String, rulesetSHA256: String, achievementDate: String, clusterVersion: String, missingClusters: [String],
                practices: [PracticeResult]) {
        self.ruleset = ruleset
        self.rulesetSHA256 = rulesetSHA256
        self.achievementDate = achievementDate
        self.clusterVersion = clusterVersion
        self.missingClusters = missingClusters
        self.practices = practices
    }

    /// JSON with keys sorted and nulls written out.
    public func json() throws -> Data {
        func round(_ x: Double?) -> Any { x.map { ($0 * 10_000).rounded() / 10_000 } ?? NSNull() }
        let practices: [[String: Any]] = practices.map { p in
            var out: [String: Any] = [
                "ods": p.ods, "pcn": p.pcn ?? NSNull(), "listSize": p.listSize,
                "registers": p.registers.map { ["id": $0.id, "size": $0.size] },
                "indicators": p.indicators.map { i in
                    [
                        "id": i.id, "register": i.register, "registerSize": i.registerSize, "denominator": i.denominator,
                        "numerator": i.numerator, "fields": i.fields, "achievement": round(i.achievement),
                        "points": round(i.points), "maxPoints": i.maxPoints,
                        "fieldKinds": i.fieldKinds.mapValues(\.rawValue),
                        "completeness": [
                            "status": i.completeness.status.rawValue, "computable": i.completeness.computable,
                            "missing": i.completeness.missing, "standIns": i.completeness.standIns,
                            "direction": i.completeness.direction?.rawValue ?? NSNull(), "description": i.completeness.words,
                        ] as [String: Any],
                    ] as [String: Any]
                },
            ]
            if let patients = p.patients {
                out["patients"] = patients.map { o in
                    ["patient": o.patient, "indicator": o.indicator, "outcome": o.outcome.rawValue, "rule": o.rule ?? NSNull(),
                     "field": o.field ?? NSNull()] as [String: Any]
                }
            }
            return out
        }
        let object: [String: Any] = [
            "ruleset": ruleset, "rulesetSha256": rulesetSHA256, "achievementDate": achievementDate, "clusterVersion": clusterVersion,
            "missingClusters": missingClusters, "practices": practices,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    /// One row per practice and indicator, for spreadsheets.
    public func csv() -> String {
        var out = "ruleset,achievement_date,ods,pcn,list_size,indicator,register,register_size,denominator,numerator,achievement,points,max_points,fields,"
            + "code_lists,computable,missing_clusters,stand_in_clusters\n"
        for p in practices {
            for i in p.indicators {
                let fields = i.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
                // A figure computed on missing code lists is not a measurement: left empty, and flagged.
                let c = i.completeness
                let a = c.computable ? i.achievement.map { String(format: "%.2f", $0) } ?? "" : ""
                out += "\(ruleset),\(achievementDate),\(p.ods),\(p.pcn ?? ""),\(p.listSize),\(i.id),\(i.register),\(i.registerSize),"
                out += "\(i.denominator),\(i.numerator),\(a),\(String(format: "%.2f", i.points)),\(i.maxPoints),\(fields),"
                out += "\(c.status.rawValue),\(c.computable),\(c.missing.joined(separator: ";")),\(c.standIns.joined(separator: ";"))\n"
            }
        }
        return out
    }
}
