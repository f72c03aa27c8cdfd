/// The JSON report: every field of `ReportData` under its own name (what `JSONDecoder` reads back into a
/// `ReportData`), absent when nil.
extension ReportData {
    var jsonValue: JSONValue {
        func counts(_ d: [String: Int]) -> JSONValue { .object(d.map { ($0.key, .int($0.value)) }) }
        let indicators: [JSONValue] = indicators.map { i in
            .object([
                ("id", .string(i.id)), ("describe", .string(i.describe)), ("group", .string(i.group)),
                ("register", .string(i.register)), ("registerSize", .int(i.registerSize)), ("denominator", .int(i.denominator)),
                ("numerator", .int(i.numerator)), ("pcas", counts(i.pcas)), ("exclusions", counts(i.exclusions)),
                ("achievement", .number(i.achievement)), ("lowerThreshold", .number(i.lowerThreshold)),
                ("upperThreshold", .number(i.upperThreshold)), ("points", .number(i.points)), ("maxPoints", .number(i.maxPoints)),
                ("pounds", .number(i.pounds)), ("changeSincePreviousRun", .number(i.changeSincePreviousRun)),
                ("changeSinceLastYear", .number(i.changeSinceLastYear)), ("verified", .bool(i.verified)),
                ("tallies", counts(i.tallies)), ("target", .number(i.target)), ("poundsAvailable", .number(i.poundsAvailable)),
                ("poundsAtStake", .number(i.poundsAtStake)), ("registerName", .string(i.registerName)), ("patientsForNextPoint", i.patientsForNextPoint.map { .int($0) } ?? .null),
                ("completeness", .object([
                    ("status", .string(i.completeness.status.rawValue)), ("computable", .bool(i.completeness.computable)),
                    ("missing", .array(i.completeness.missing.map { .string($0) })),
                    ("standIns", .array(i.completeness.standIns.map { .string($0) })),
                    ("direction", i.completeness.direction.map { .string($0.rawValue) } ?? .null),
                ])),
            ])
        }
        let subjects: JSONValue = subjects.map { s in
            .object(s.map { indicator, populations in
                (indicator, .object(populations.map { ($0.key, .array($0.value.map { .string($0) })) }))
            })
        } ?? .null
        return .object([
            ("practice", .string(practice)), ("practiceName", .string(practiceName)), ("pcn", pcn.map { .string($0) } ?? .null),
            ("ruleset", .string(ruleset)), ("rulesetTitle", .string(rulesetTitle)), ("achievementDate", .string(achievementDate)),
            ("runID", .int(Int(runID))), ("listSize", .int(listSize)), ("pointsAchieved", .number(pointsAchieved)),
            ("pointsAvailable", .number(pointsAvailable)), ("pounds", .number(pounds)), ("poundsAvailable", .number(poundsAvailable)),
            ("state", .string(state)), ("lastYearPounds", .number(lastYearPounds)), ("aspiration", .number(aspiration)),
            ("balance", .number(balance)), ("snapshotSHA256", snapshotSHA256.map { .string($0) } ?? .null),
            ("indicators", .array(indicators)), ("subjects", subjects), ("poundsAtStake", .number(poundsAtStake)),
            ("poundsNotAssessed", .number(poundsNotAssessed)), ("unverifiedFigures", .array(unverifiedFigures.map { .string($0) })),
            ("rulesetKind", .string(rulesetKind)), ("hasPounds", .bool(hasPounds)),
            ("population", population.map { p in
                func lines(_ l: [Population.Line]) -> JSONValue { .array(l.map { .object([("label", .string($0.label)), ("patients", .int($0.patients))]) }) }
                return .object([("asOf", .string(p.asOf)), ("listSize", .int(p.listSize)), ("segments", lines(p.segments)),
                                ("frailty", lines(p.frailty)), ("qrisk3", lines(p.qrisk3))])
            } ?? .null),
        ])
    }
}
