/// The FHIR R4 MeasureReport qofd writes for a practice's run: `type: summary`, one group per indicator
/// with initial-population, denominator, denominator-exclusion, denominator-exception (PCAs) and
/// numerator, and the score; `type: subject-list` when the report carries patient lists (contained
/// List resources the populations point to).
enum FHIRMeasureReport {
    static func json(_ d: ReportData) -> JSONValue {
        let system = "http://terminology.hl7.org/CodeSystem/measure-population"
        var contained: [JSONValue] = []
        func coding(_ system: String, _ code: String, text: String? = nil) -> JSONValue {
            .object([("coding", .array([.object([("system", .string(system)), ("code", .string(code))])])),
                     ("text", text.map { .string($0) } ?? .null)])
        }
        func population(_ code: String, _ count: Int, _ indicator: String, _ patients: [String]?) -> JSONValue {
            var reference = JSONValue.null
            if let patients {
                let id = "\(indicator)-\(code)"
                contained.append(.object([
                    ("resourceType", .string("List")), ("id", .string(id)), ("status", .string("current")), ("mode", .string("snapshot")),
                    ("entry", .array(patients.map { p in
                        .object([("item", .object([("identifier", .object([
                            ("system", .string("urn:qofd:patient:\(d.practice)")), ("value", .string(p)),
                        ]))]))])
                    })),
                ]))
                reference = .object([("reference", .string("#\(id)"))])
            }
            return .object([("code", coding(system, code)), ("count", .int(count)), ("subjectResults", reference)])
        }
        let groups: [JSONValue] = d.indicators.map { i in
            let lists: [String: [String]]? = d.subjects?[i.id].map { s in
                let num = s["numerator"] ?? []
                let den = num + (s["denominator"] ?? [])
                let all = den + (s["pca"] ?? []) + (s["excluded"] ?? [])
                return ["initial": all.sorted(), "denominator": all.sorted(), "exclusion": (s["excluded"] ?? []).sorted(),
                        "exception": (s["pca"] ?? []).sorted(), "numerator": num.sorted()]
            }
            let exclusions = i.exclusions.values.reduce(0, +)
            let pcas = i.pcas.values.reduce(0, +)
            // A figure on missing code lists has no score; the extension says why.
            let score: JSONValue = i.completeness.computable ? i.achievement.map { a in
                .object([("value", .number((a / 100 * 10_000).rounded() / 10_000)), ("unit", .string("1"))])
            } ?? .null : .null
            // A programme cohort's tallies are strata of the denominator, never exclusions.
            let strata: [JSONValue] = i.tallies.sorted { $0.key < $1.key }.map { name, count in
                .object([
                    ("value", .object([("text", .string(name))])),
                    ("population", .array([.object([("code", coding(system, "denominator")), ("count", .int(count))])])),
                ])
            }
            let c = i.completeness
            let completeness: JSONValue = .array([.object([
                ("url", .string("urn:qofd:extension:code-list-completeness")),
                ("extension", .array([
                    .object([("url", .string("status")), ("valueCode", .string(c.status.rawValue))]),
                    .object([("url", .string("computable")), ("valueBoolean", .bool(c.computable))]),
                    .object([("url", .string("description")), ("valueString", .string(c.words))]),
                ] + c.missing.map { .object([("url", .string("missing")), ("valueString", .string($0))]) }
                  + c.standIns.map { .object([("url", .string("standIn")), ("valueString", .string($0))]) })),
            ])])
            return .object([
                ("extension", completeness),
                ("code", coding("urn:qofd:indicator", i.id, text: i.describe)),
                ("population", .array([
                    population("initial-population", i.registerSize, i.id, lists?["initial"]),
                    population("denominator", i.denominator + exclusions + pcas, i.id, lists?["denominator"]),
                    population("denominator-exclusion", exclusions, i.id, lists?["exclusion"]),
                    population("denominator-exception", pcas, i.id, lists?["exception"]),
                    population("numerator", i.numerator, i.id, lists?["numerator"]),
                ])),
                ("measureScore", score),
                ("stratifier", strata.isEmpty ? .null : .array([.object([
                    ("code", .array([.object([("text", .string("vaccination status"))])])), ("stratum", .array(strata)),
                ])])),
            ])
        }
        let ods = JSONValue.object([("system", .string("https://fhir.nhs.uk/Id/ods-organization-code")), ("value", .string(d.practice))])
        return .object([
            ("resourceType", .string("MeasureReport")),
            ("id", .string("\(d.practice)-\(d.ruleset)-\(d.achievementDate)-run\(d.runID)")),
            ("status", .string("complete")),
            ("type", .string(d.subjects == nil ? "summary" : "subject-list")),
            ("measure", .string("urn:qofd:measure:\(d.ruleset)")),
            ("subject", .object([("identifier", ods), ("display", .string(d.practiceName))])),
            ("date", .string(d.achievementDate)),
            ("period", .object([("start", .string(ReportRenderer.startOfYear(d.achievementDate))), ("end", .string(d.achievementDate))])),
            ("reporter", .object([("identifier", ods)])),
            ("group", .array(groups)),
            ("contained", contained.isEmpty ? .null : .array(contained)),
        ])
    }
}
