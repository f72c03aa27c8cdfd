import Clinical
import Foundation
import Hummingbird
import QRISK3
import RulesEngine
import Storage

/// The indicator page (rule funnel, worklist, new patients), its CSV export, and the patient explanation.
extension WebApp {
    /// The latest run and stored result of an indicator's ruleset for a practice.
    func latest(_ ods: String, _ rs: Ruleset) async throws -> (PracticeHistory.Run, StoredFigures, String)? {
        try await database.run { conn -> (PracticeHistory.Run, StoredFigures, String)? in
            guard let run = try PracticeHistory.latestRun(practice: ods, ruleset: rs.id, in: conn),
                let figures = try StoredFigures.load(run: run.id, in: conn) else { return nil }
            let name = try PracticeHistory.organisation(ods, on: run.achievementDate, in: conn)?.name ?? ods
            return (run, figures, name)
        }
    }

    /// The frailty and QRISK3 stored with the run's extract, by patient row (empty when none was kept).
    func storedRisk(_ run: PracticeHistory.Run) async throws -> [Int: PopulationStore.PatientRisk] {
        guard let extract = run.extractID else { return [:] }
        return try await database.run { conn in try PopulationStore.patientRisk(extractID: extract, in: conn) }
    }

    /// The run's patients, evaluated with the rules the run itself used (its stored rule text when the rules
    /// configured now differ).
    func snapshot(for run: PracticeHistory.Run, configured rs: Ruleset, inputs: WebInputs, demographicsOnly: Bool = false) async throws
        -> PracticeSnapshot
    {
        var ruleset = rs
        if !run.rulesetSHA256.isEmpty, run.rulesetSHA256 != rs.sha256,
            let text = try await database.run({ conn in try PracticeHistory.ruleText(sha256: run.rulesetSHA256, in: conn) })
        {
            ruleset = try RulesetLoader(library: inputs.library).parse(text, file: "\(run.ruleset) (as run \(run.id) used it)")
        }
        let database = self.database
        let stored: @Sendable () async throws -> PracticeSnapshot.Stored? = {
            try await database.run { conn in try StoredOutcomes.load(run: run.id, in: conn) }
        }
        if demographicsOnly {
            return try await snapshots.demographics(for: run, ruleset: ruleset, library: inputs.library, archive: inputs.archive, stored: stored)
        }
        return try await snapshots.snapshot(for: run, ruleset: ruleset, library: inputs.library, archive: inputs.archive, stored: stored)
    }

    /// Register -> each PCA and exclusion field, in rule order -> denominator -> numerator.
    static func funnel(_ r: StoredFigures.Indicator, _ def: Indicator, fields: [FieldDefinition]) -> [(label: String, field: String, count: Int)] {
        // A rule without its own words reads as the field it tests ("maximal blood pressure therapy recorded").
        func words(_ rule: Rule) -> String {
            if let d = rule.describe { return d }
            let refs = rule.references
            if refs.count == 1, let f = fields.first(where: { $0.name == refs.first }) { return "\(f.describe) recorded" }
            return rule.conditionText
        }
        var steps: [(String, String, Int)] = [("On the register (\(def.register))", "", r.registerSize)]
        var seen = Set<String>()
        for rule in def.denominator.rules {
            guard let field = rule.field, (rule.then == .reject || rule.otherwise == .reject), seen.insert(field).inserted else { continue }
            steps.append(("Removed: \(words(rule)) (\(rule.kind == .pca ? "PCA" : "exclusion"))", field, r.fields[field] ?? 0))
        }
        steps.append(("Denominator", "", r.denominator))
        steps.append(("Numerator (achieving)", "", r.numerator))
        return steps
    }

    func indicatorPage(_ viewer: Viewer, ods: String, id: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets), let def = rs.indicators.first(where: { $0.id == id }) else {
            return message(.notFound, "Unknown indicator", "No indicator \(id) in the chosen ruleset.", viewer: viewer)
        }
        guard let (run, figures, name) = try await latest(ods, rs), let r = figures.indicators.first(where: { $0.id == id }) else {
            return message(.notFound, "No results", "No stored run of \(rs.id) for \(ods).", viewer: viewer)
        }
        let steps = Self.funnel(r, def, fields: rs.fields)
        let c = r.completeness
        let (rag, words) = c.computable ? Format.rag(r.achievement, indicator: def) : ("none", "Cannot be computed: code lists missing")
        var context: [String: Any] = [
            "completeness": c.status == .complete ? "" : c.words,
            "title": "\(id) at \(name)", "ods": ods, "name": name, "ruleset": rs.id, "rulesetTitle": rs.title, "id": id, "describe": def.describe,
            "achievementDate": run.achievementDate.description, "rag": rag, "ragWords": words,
            "achievement": c.computable ? Format.percent(r.achievement) : "cannot be computed",
            "thresholds": def.target.map { "target \(Format.percent($0.percent))" } ?? "\(Int(def.lowerThreshold))–\(Int(def.upperThreshold))%",
            "funnel": steps.map { ["label": $0.label, "field": $0.field, "count": $0.count] },
            "funnelChart": Charts.bars(
                title: "Rule funnel of \(id)", rows: steps.map { ($0.field.isEmpty ? $0.label : $0.field, Double($0.count), String($0.count)) },
                scale: Double(max(1, r.registerSize))),
            "patientAccess": viewer.mayViewPatients(of: ods),
            "crumbs": Format.crumbs(("\(name) (\(ods))", "/practice/\(ods)?ruleset=\(rs.id)")),
        ]
        if viewer.mayViewPatients(of: ods) {
            let filter = Self.query(request, "q") ?? ""
            let order = Self.query(request, "sort").flatMap(WorklistOrder.init(rawValue:)) ?? .pounds
            let missing = Self.query(request, "missing") ?? ""
            do {
                let snapshot = try await snapshot(for: run, configured: rs, inputs: inputs)
                let list = await worklist(snapshot, indicator: snapshot.compiled.ruleset.indicators.first { $0.id == id } ?? def,
                                          library: inputs.library, filter: filter)
                let worth = Self.worth(snapshot, figures: figures, ruleset: rs)
                let risk = try await storedRisk(run)
                let entries = list.ordered(order, missing: missing, worth: worth, risk: risk)
                context["riskKnown"] = !risk.isEmpty
                context["disclaimer"] = QRISK3.disclaimer
                if let stale = snapshot.stale { context["stale"] = stale }
                // 50 patients a page: a long worklist is read a page at a time (the CSV export has them all).
                let perPage = 50
                let pages = max(1, (entries.count + perPage - 1) / perPage)
                let pageNumber = min(pages, max(1, Int(Self.query(request, "page") ?? "") ?? 1))
                let shown = entries.dropFirst((pageNumber - 1) * perPage).prefix(perPage)
                try await audit(viewer, action: "web-view-worklist", practice: ods, ruleset: rs.id, achievementDate: run.achievementDate,
                                details: ["indicator": id, "filter": filter, "missing": missing, "sort": order.rawValue, "page": String(pageNumber),
                                          "patients": String(shown.count + list.newPatients.count)])
                let query = "ruleset=\(rs.id)&q=\(Self.encoded(filter))&missing=\(Self.encoded(missing))&sort=\(order.rawValue)"
                let link = { (n: Int) in "/practice/\(ods)/indicator/\(id)?\(query)&page=\(n)" }
                context["worklist"] = [
                    "count": entries.count, "all": list.entries.count, "narrowed": entries.count != list.entries.count,
                    "filter": filter, "page": pageNumber, "pages": pages, "paged": pages > 1, "missingValue": missing, "sortValue": order.rawValue,
                    "first": (pageNumber - 1) * perPage + (shown.isEmpty ? 0 : 1), "last": (pageNumber - 1) * perPage + shown.count,
                    "previous": pageNumber > 1 ? link(pageNumber - 1) : "", "next": pageNumber < pages ? link(pageNumber + 1) : "",
                    "export": "/practice/\(ods)/indicator/\(id)/worklist.csv?\(query)",
                    "orders": WorklistOrder.allCases.map { ["value": $0.rawValue, "words": $0.words, "selected": $0 == order] },
                    "gaps": list.gaps.map { ["value": $0.missing, "words": "\($0.missing) (\($0.count))", "selected": $0.missing == missing] },
                    "entries": shown.map { e in
                        var row: [String: Any] = [
                            "patient": e.patient, "nhsNumber": e.nhsNumber, "born": e.born.description, "age": e.age, "sex": e.sex, "missing": e.missing,
                            "facts": e.facts, "dueBy": e.dueBy.description,
                            "open": (worth[e.row]?.indicators ?? []).joined(separator: ", "), "worth": "£" + Format.pounds(worth[e.row]?.pounds ?? 0),
                            "risk": risk[e.row]?.words ?? "",
                        ]
                        if let next = e.nextStep { row["nextStep"] = next.description }  // absent, not empty: Mustache takes "" as true
                        return row
                    },
                    "newCount": list.newPatients.count,
                    "newPatients": list.newPatients.map { ["patient": $0.patient, "age": $0.age, "reason": $0.reason, "field": $0.field ?? ""] as [String: Any] },
                ] as [String: Any]
            } catch let problem as SnapshotCache.Problem {
                context["patientsProblem"] = "The patients behind these figures cannot be shown: \(problem)."
            }
        }
        return page("indicator", context, viewer: viewer)
    }

    func worklistCSV(_ viewer: Viewer, ods: String, id: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets), let def = rs.indicators.first(where: { $0.id == id }),
            let (run, figures, _) = try await latest(ods, rs)
        else { return message(.notFound, "No results", "No stored results for this indicator.", viewer: viewer) }
        let filter = Self.query(request, "q") ?? ""
        let order = Self.query(request, "sort").flatMap(WorklistOrder.init(rawValue:)) ?? .pounds
        let missing = Self.query(request, "missing") ?? ""
        let snapshot = try await snapshot(for: run, configured: rs, inputs: inputs)
        let list = await worklist(snapshot, indicator: snapshot.compiled.ruleset.indicators.first { $0.id == id } ?? def,
                                  library: inputs.library, filter: filter)
        let worth = Self.worth(snapshot, figures: figures, ruleset: rs)
        let risk = try await storedRisk(run)
        let entries = list.ordered(order, missing: missing, worth: worth, risk: risk)
        try await audit(viewer, action: "web-export-worklist", practice: ods, ruleset: rs.id, achievementDate: run.achievementDate,
                        details: ["indicator": id, "filter": filter, "missing": missing, "sort": order.rawValue, "patients": String(entries.count)])
        var response = Self.response(status: .ok, type: "text/csv; charset=utf-8", body: list.csv(entries, worth: worth, risk: risk))
        response.headers[.contentDisposition] = "attachment; filename=\"\(ods)-\(id)-worklist-\(run.achievementDate).csv\""
        return response
    }

    /// What one contact with each patient would earn across the indicators they are open in (This week's figure).
    static func worth(_ snapshot: PracticeSnapshot, figures: StoredFigures, ruleset: Ruleset) -> [Int: ThisWeek.Patient] {
        Dictionary(ThisWeek(figures: figures, ruleset: ruleset, outcomes: { snapshot.outcomes(of: $0) }).patients.map { ($0.row, $0) },
                   uniquingKeysWith: { a, _ in a })
    }

    static func encoded(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }

    /// The patient with this NHS number (ten digits, spaces allowed), when the text is one and the extract has it.
    static func byNHSNumber(_ text: String, in population: Population) -> Int? {
        let digits = text.filter { $0 != " " }
        guard digits.count == 10, digits.allSatisfy(\.isASCII), let n = UInt64(digits), n > 0 else { return nil }
        return population.nhsNumbers.firstIndex(of: n)
    }

    func patientPage(_ viewer: Viewer, ods: String, form: [String: String]) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(form["ruleset"].flatMap { $0.isEmpty ? nil : $0 }, inputs.rulesets) else {
            return message(.notFound, "Unknown ruleset", "No such ruleset is configured.", viewer: viewer)
        }
        let patient = (form["patient"] ?? "").trimmingCharacters(in: .whitespaces)
        let indicator = form["indicator"] ?? ""
        var context: [String: Any] = [
            "title": "Explain a patient", "ods": ods, "name": ods, "ruleset": rs.id, "patient": patient,
            "indicators": rs.indicators.map { ["id": $0.id, "selected": $0.id == indicator] },
            "crumbs": Format.crumbs(("Practice \(ods)", "/practice/\(ods)?ruleset=\(rs.id)")),
        ]
        guard !patient.isEmpty else { return page("patient", context, viewer: viewer) }
        guard let (run, _, name) = try await latest(ods, rs) else {
            context["error"] = "No stored run of \(rs.id) for this practice."
            return page("patient", context, viewer: viewer)
        }
        context["name"] = name
        context["crumbs"] = Format.crumbs(("\(name) (\(ods))", "/practice/\(ods)?ruleset=\(rs.id)"))
        let snapshot: PracticeSnapshot
        do { snapshot = try await self.snapshot(for: run, configured: rs, inputs: inputs) } catch {
            context["error"] = "The patients behind these figures cannot be shown: \(error)."
            return page("patient", context, viewer: viewer)
        }
        guard let p = snapshot.patientIndex[patient] ?? Self.byNHSNumber(patient, in: snapshot.population) else {
            context["error"] = "No patient with that identifier or NHS number in the practice's latest extract."
            return page("patient", context, viewer: viewer, status: .notFound)
        }
        let chosen: Set<String> = rs.indicators.contains { $0.id == indicator } ? [indicator] : []
        let e = Engine(snapshot.compiled).explain(snapshot.population, patient: p, indicators: chosen, library: inputs.library)
        try await audit(viewer, action: "web-view-patient", practice: ods, ruleset: rs.id, achievementDate: run.achievementDate,
                        details: ["patient": patient, "indicator": indicator])
        var chains: [[String: Any]] = []
        for step in e.steps {
            var item: [String: Any] = [
                "rule": step.rule, "text": step.describe ?? step.condition, "result": step.result ? "yes" : "no",
                "action": step.action == "next" ? "go on" : step.action, "facts": step.facts,
            ]
            if step.action == "reject", let field = step.field { item["field"] = field }
            if let last = chains.last, last["chain"] as? String == step.chain {
                chains[chains.count - 1]["steps"] = (last["steps"] as! [[String: Any]]) + [item]
            } else {
                chains.append(["chain": step.chain, "steps": [item]])
            }
        }
        context["explanation"] = [
            "patient": e.patient, "age": e.age, "inPopulation": e.inPopulation, "chains": chains,
            "outcomes": e.outcomes.sorted { $0.key < $1.key }.map { ["indicator": $0.key, "outcome": $0.value] },
        ] as [String: Any]
        return page("patient", context, viewer: viewer)
    }
}
