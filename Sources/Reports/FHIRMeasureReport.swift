import Foundation

/// The FHIR R4 MeasureReport qofd writes, as Codable values: encoded by `JSONEncoder` (sorted keys,
/// pretty printed), which is several times faster on Linux than building dictionaries for
/// `JSONSerialization`, and reports are written after every run.
struct FHIRMeasureReport: Encodable {
    struct Coding: Encodable { var system: String; var code: String }
    struct CodeableConcept: Encodable { var coding: [Coding]; var text: String? }
    struct Identifier: Encodable { var system: String; var value: String }
    struct OrganisationReference: Encodable { var identifier: Identifier; var display: String? }
    struct Reference: Encodable { var reference: String }
    struct Quantity: Encodable { var value: Double; var unit: String }
    struct Period: Encodable { var start: String; var end: String }
    struct Population: Encodable { var code: CodeableConcept; var count: Int; var subjectResults: Reference? }
    struct Group: Encodable { var code: CodeableConcept; var population: [Population]; var measureScore: Quantity? }
    struct PatientItem: Encodable { var identifier: Identifier }
    struct ListEntry: Encodable { var item: PatientItem }
    /// A contained List of the patients in one population (subject-list reports only).
    struct PatientList: Encodable {
        var resourceType = "List"
        var id: String
        var status = "current"
        var mode = "snapshot"
        var entry: [ListEntry]
    }

    var resourceType = "MeasureReport"
    var id: String
    var status = "complete"
    var type: String
    var measure: String
    var subject: OrganisationReference
    var date: String
    var period: Period
    var reporter: OrganisationReference
    var group: [Group]
    var contained: [PatientList]?

    /// Builds the report: `type: summary`, one group per indicator with initial-population,
    /// denominator, denominator-exclusion, denominator-exception (PCAs) and numerator, and the score;
    /// `type: subject-list` when the report carries patient lists (contained List resources).
    init(_ d: ReportData) {
        let system = "http://terminology.hl7.org/CodeSystem/measure-population"
        var contained: [PatientList] = []
        func population(_ code: String, _ count: Int, _ indicator: String, _ patients: [String]?) -> Population {
            var reference: Reference?
            if let patients {
                let id = "\(indicator)-\(code)"
                contained.append(PatientList(id: id, entry: patients.map {
                    ListEntry(item: PatientItem(identifier: Identifier(system: "urn:qofd:patient:\(d.practice)", value: $0)))
                }))
                reference = Reference(reference: "#\(id)")
            }
            return Population(code: CodeableConcept(coding: [Coding(system: system, code: code)]), count: count, subjectResults: reference)
        }
        group = d.indicators.map { i in
            let lists: [String: [String]]? = d.subjects?[i.id].map { s in
                let num = s["numerator"] ?? []
                let den = num + (s["denominator"] ?? [])
                let all = den + (s["pca"] ?? []) + (s["excluded"] ?? [])
                return ["initial": all.sorted(), "denominator": all.sorted(), "exclusion": (s["excluded"] ?? []).sorted(),
                        "exception": (s["pca"] ?? []).sorted(), "numerator": num.sorted()]
            }
            let exclusions = i.exclusions.values.reduce(0, +)
            let pcas = i.pcas.values.reduce(0, +)
            return Group(
                code: CodeableConcept(coding: [Coding(system: "urn:qofd:indicator", code: i.id)], text: i.describe),
                population: [
                    population("initial-population", i.registerSize, i.id, lists?["initial"]),
                    population("denominator", i.denominator + exclusions + pcas, i.id, lists?["denominator"]),
                    population("denominator-exclusion", exclusions, i.id, lists?["exclusion"]),
                    population("denominator-exception", pcas, i.id, lists?["exception"]),
                    population("numerator", i.numerator, i.id, lists?["numerator"]),
                ],
                measureScore: i.achievement.map { Quantity(value: ($0 / 100 * 10_000).rounded() / 10_000, unit: "1") })
        }
        let ods = Identifier(system: "https://fhir.nhs.uk/Id/ods-organization-code", value: d.practice)
        id = "\(d.practice)-\(d.ruleset)-\(d.achievementDate)-run\(d.runID)"
        type = d.subjects == nil ? "summary" : "subject-list"
        measure = "urn:qofd:measure:\(d.ruleset)"
        subject = OrganisationReference(identifier: ods, display: d.practiceName)
        date = d.achievementDate
        period = Period(start: ReportRenderer.startOfYear(d.achievementDate), end: d.achievementDate)
        reporter = OrganisationReference(identifier: ods)
        self.contained = contained.isEmpty ? nil : contained
    }
}
