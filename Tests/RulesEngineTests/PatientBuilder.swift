import Clinical
import Clusters
import RulesEngine
import Testing

/// Builds small populations in code for known-answer tests: each patient a history written as the
/// business rules speak of it (cluster names, dates, values).
struct PatientBuilder: Sendable {
    var id: String
    var born: String
    var sex: Sex = .female
    var registered: String = "2000-01-01"
    var deregistered: String? = nil
    var died: String? = nil
    /// The extract's ethnicity column (a concept id), nil when blank.
    var ethnicity: UInt64? = nil
    /// (cluster, date, value, value2)
    var events: [(String, String, Float, Float)] = []
    var medications: [(String, String)] = []

    init(_ id: String, born: String, registered: String = "2000-01-01") {
        self.id = id
        self.born = born
        self.registered = registered
    }

    func with(_ cluster: String, on date: String, _ value: Float = .nan, _ value2: Float = .nan) -> PatientBuilder {
        var copy = self
        copy.events.append((cluster, date, value, value2))
        return copy
    }

    /// A record with an explicit concept id (for codes that must sit in two clusters at once).
    func concept(_ id: UInt64, on date: String, _ value: Float = .nan, _ value2: Float = .nan) -> PatientBuilder {
        with("#\(id)", on: date, value, value2)
    }

    /// With the extract's ethnicity column set.
    func ethnic(_ concept: UInt64) -> PatientBuilder {
        var copy = self
        copy.ethnicity = concept
        return copy
    }

    func bp(_ systolic: Float, _ diastolic: Float, on date: String, cluster: String = "BP_COD") -> PatientBuilder {
        with(cluster, on: date, systolic, diastolic)
    }

    func issued(_ cluster: String, on date: String) -> PatientBuilder {
        var copy = self
        copy.medications.append((cluster, date))
        return copy
    }
}

enum Fixtures {
    /// The code lists qofd ships (shared/codelists).
    static let shipped: ClusterLibrary = try! ClusterLibrary.bundled()
    /// The shipped lists plus, for every cluster a shipped ruleset declares but shared/codelists lacks,
    /// a list of made-up concept ids (9,000,000,000 + n): what a site has once it imports the PCD refset
    /// release, so known answers can exercise every rule.
    static let library: ClusterLibrary = {
        var library = shipped
        let sets = try! RulesetLoader(library: shipped).loadAll()
        var missing = Set<String>()
        for rs in sets.values { missing.formUnion(try! CompiledRuleset(rs, library: shipped).missingClusters) }
        for (n, name) in missing.sorted().enumerated() {
            let id = 9_000_000_000 + UInt64(n) * 10
            library.add(CodeList(name: name, source: "test import", concepts: [id, id + 1]))
        }
        return library
    }()
    static let rulesets: [String: Ruleset] = try! RulesetLoader(library: library).loadAll()

    /// A concept of the cluster (the smallest, for repeatability; BP_COD uses 75367002 Blood pressure).
    static func concept(_ cluster: String) -> UInt64 {
        if cluster.hasPrefix("#") { return UInt64(cluster.dropFirst())! }
        if cluster == "BP_COD" { return 75_367_002 }
        if cluster == "ASTTRT_COD" { return library["primis-astrx"]!.concepts.min()! }
        if cluster == "NSMOK_COD" { return library["gmsde-smoking-status-never"]!.concepts.min()! }
        if cluster == "LDLCCHOL_COD" { return library["gmsde-ldl-cholesterol"]!.concepts.min()! }
        if cluster == "DTAPVAC_COD" { return library["cprdaurum-vacc_dtap_ipv_hib_hepb_menc_combined_medcodes"]!.concepts.min()! }
        if cluster == "MMRVAC_COD" { return library["gmsde-mmr-vaccination"]!.concepts.min()! }
        // A cluster the rules fill from a declared stand-in list records a code of that list.
        let standIn = rulesets.values.lazy.compactMap { $0.clusters[cluster]?.standIn }.first
        guard let list = library[cluster] ?? standIn.flatMap({ library[$0] }) else { fatalError("no cluster \(cluster) in the library") }
        if cluster.hasPrefix("primis-") || cluster.hasPrefix("qofd-") { return list.concepts.sorted()[list.concepts.count / 2] }
        return list.concepts.min()!
    }

    static func population(_ patients: [PatientBuilder], dataTo: String = "2026-03-31") -> Population {
        var p = PopulationBuilder(practice: PracticeInfo(ods: "A81001", name: "Test", pcnODS: "U12345"), dataTo: Day(iso: dataTo)!)
        for b in patients {
            p.patientIDs.append(b.id)
            p.nhsNumbers.append(0)
            p.birthDates.append(Day(iso: b.born)!)
            p.sexes.append(b.sex)
            p.deathDates.append(b.died.map { Day(iso: $0)! } ?? .distantFuture)
            p.lsoa.append(-1)
            p.ethnicity.append(b.ethnicity.map { p.codes.intern($0) } ?? -1)
            p.registrations.append(Registration(start: Day(iso: b.registered)!, end: b.deregistered.map { Day(iso: $0)! } ?? .distantFuture))
            p.registrationOffsets.append(Int32(p.registrations.count))
            let events = b.events.map { e in
                Event(date: Day(iso: e.1)!, code: p.codes.intern(concept(e.0)), value: e.2, value2: e.3)
            }.sorted { $0.date < $1.date }
            p.events += events
            p.eventOffsets.append(Int32(p.events.count))
            p.medications += b.medications.map { m in Medication(date: Day(iso: m.1)!, code: p.codes.intern(concept(m.0))) }
                .sorted { $0.date < $1.date }
            p.medicationOffsets.append(Int32(p.medications.count))
        }
        return try! p.build()
    }

    /// Evaluates and returns each patient's outcome and field for one indicator.
    static func outcomes(_ patients: [PatientBuilder], ruleset: String = "qof-2025-26", indicator: String,
                         achievementDate: String? = nil) throws -> [String: (Outcome, String?)] {
        let compiled = try CompiledRuleset(rulesets[ruleset]!, achievementDate: achievementDate.map { Day(iso: $0)! }, library: library)
        let result = Engine(compiled).evaluate(population(patients), patientOutcomes: true)
        var out: [String: (Outcome, String?)] = [:]
        // Outcomes are given for patients on an indicator's register; a patient of the population (every one is
        // on LIST, so appears under some indicator) without one for this indicator is not on its register.
        for id in Set(result.patients!.map(\.patient)) { out[id] = (.notInRegister, nil) }
        for o in result.patients! where o.indicator == indicator { out[o.patient] = (o.outcome, o.field) }
        return out
    }
}

/// One known-answer case: a patient history and the outcome the rules give it.
struct RuleCase: Sendable, CustomStringConvertible {
    let name: String
    let patient: PatientBuilder
    let outcome: Outcome
    let field: String?
    var description: String { name }
}

/// One known-answer case for `indicator`.
func known(_ indicator: String, _ name: String, _ patient: PatientBuilder, _ outcome: Outcome, _ field: String? = nil) -> (String, RuleCase) {
    (indicator, RuleCase(name: name, patient: patient, outcome: outcome, field: field))
}

/// Checks one known answer: the outcome and the CQRS field the rules give the patient.
func checkKnownAnswer(_ c: (String, RuleCase), ruleset: String = "qof-2025-26") throws {
    let (indicator, rc) = c
    let (outcome, field) = try #require(try Fixtures.outcomes([rc.patient], ruleset: ruleset, indicator: indicator)[rc.patient.id])
    #expect(outcome == rc.outcome, "\(indicator): \(rc.name)")
    #expect(field == rc.field, "\(indicator): \(rc.name)")
}

extension PatientBuilder {
    func male() -> PatientBuilder { var c = self; c.sex = .male; return c }
    func registered(_ date: String) -> PatientBuilder { var c = self; c.registered = date; return c }
}
