import Clinical
import Foundation
import Hummingbird
import Storage
import Stratification

/// Interventions on the web: recorded from an indicator's worklist (the patients shown, or the first N in the
/// chosen order, against the rest of the same open denominator), listed per practice, and each followed run by
/// run with the difference in the share reaching the numerator and its 95 % interval, for whom (by group), and
/// as CSV. Recording needs patient access and is audited; the figures are read as the pipeline stored them.
extension WebApp {
    func createIntervention(_ viewer: Viewer, ods: String, indicator id: String, form: [String: String]) async throws -> Response {
        let inputs = await inputs()
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let what = (form["what"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, what.count <= 2000 else {
            return message(.badRequest, "Name needed", "Give the intervention a name (up to 200 characters) and say what was done (up to 2,000).", viewer: viewer)
        }
        guard let rs = chosenRuleset(form["ruleset"], inputs.rulesets), let def = rs.indicators.first(where: { $0.id == id }),
            let (run, figures, _) = try await latest(ods, rs)
        else { return message(.notFound, "No results", "No stored run of this indicator for \(ods).", viewer: viewer) }
        let filter = form["q"] ?? "", missing = form["missing"] ?? ""
        let order = form["sort"].flatMap(WorklistOrder.init(rawValue:)) ?? .pounds
        let snapshot = try await snapshot(for: run, configured: rs, inputs: inputs)
        let indicator = snapshot.compiled.ruleset.indicators.first { $0.id == id } ?? def
        // The open denominator (the whole worklist), and the patients acted on: the list as filtered and ordered, or its first N.
        let everyone = await worklist(snapshot, indicator: indicator, library: inputs.library, filter: "")
        let shown = await worklist(snapshot, indicator: indicator, library: inputs.library, filter: filter)
            .ordered(order, missing: missing, worth: Self.worth(snapshot, figures: figures, ruleset: rs), risk: try await storedRisk(run))
        let limit = Int(form["first"] ?? "").flatMap { $0 > 0 ? $0 : nil }
        let chosen = limit.map { Array(shown.prefix($0)) } ?? shown
        let acted = Set(chosen.map(\.row))
        guard !acted.isEmpty else { return message(.badRequest, "No patients", "The worklist as filtered holds no patient to act on.", viewer: viewer) }
        let population = snapshot.population, day = population.dataTo, deprivation = self.deprivation, ethnic = self.ethnicGroups
        let members = InterventionStore.members(population, rows: everyone.entries.map(\.row), acted: acted, on: day,
                                                decile: { deprivation.areas[$0]?.decile }, ethnicGroups: ethnic)
        var selection = "\(id) worklist on \(day)"
        if !filter.isEmpty { selection += ", search “\(filter)”" }
        if !missing.isEmpty { selection += ", missing “\(missing)”" }
        if let limit { selection += ", the first \(limit) by \(order.words.lowercased())" }
        let user = viewer.user.username, described = selection
        let created = try await database.run { conn in
            try conn.withTransaction { c in
                let created = try InterventionStore.create(practice: ods, name: name, whatWasDone: what, indicator: id, run: run.id, selection: described,
                                                           members: members, by: user, in: c)
                try AuditLog.record(actor: user, action: "web-create-intervention", practice: ods, ruleset: rs.id, achievementDate: run.achievementDate,
                                    details: ["intervention": String(created), "indicator": id, "patients": String(acted.count),
                                              "comparison": String(members.count - acted.count)], in: c)
                return created
            }
        }
        return .redirect(to: "/practice/\(ods)/intervention/\(created)", type: .normal)
    }

    /// From a cohort's list: the patients as listed (or the first N) against the rest of the cohort; followed by
    /// the pipeline with each later extract (who has left the cohort).
    func createCohortIntervention(_ viewer: Viewer, ods: String, cohort id: String, form: [String: String]) async throws -> Response {
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let what = (form["what"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, what.count <= 2000 else {
            return message(.badRequest, "Name needed", "Give the intervention a name (up to 200 characters) and say what was done (up to 2,000).", viewer: viewer)
        }
        guard let stratifier = await stratifier(), let cohort = stratifier.cohorts.first(where: { $0.id == id }) else {
            return message(.notFound, "Unknown cohort", "No cohort \(id).", viewer: viewer)
        }
        guard let (population, day, run) = try await latestPopulationAndRun(ods) else {
            return message(.notFound, "No extract", "No extract of \(ods) can be read yet.", viewer: viewer)
        }
        let deprivation = self.deprivation, ethnic = self.ethnicGroups
        let listed = CohortFinder(stratifier: stratifier, population: population, decile: { deprivation.areas[$0]?.decile }).members(cohort, on: day)
        let limit = Int(form["first"] ?? "").flatMap { $0 > 0 ? $0 : nil }
        let acted = Set((limit.map { Array(listed.prefix($0)) } ?? listed).map(\.row))
        guard !acted.isEmpty else { return message(.badRequest, "No patients", "The cohort holds no patient to act on.", viewer: viewer) }
        let members = InterventionStore.members(population, rows: listed.map(\.row), acted: acted, on: day,
                                                decile: { deprivation.areas[$0]?.decile }, ethnicGroups: ethnic)
        let selection = "\(cohort.label) on \(day)" + (limit.map { ", the first \($0) as listed" } ?? "")
        let user = viewer.user.username
        let created = try await database.run { conn in
            try conn.withTransaction { c in
                let created = try InterventionStore.create(practice: ods, name: name, whatWasDone: what, indicator: "", cohort: id, run: run.id,
                                                           selection: selection, members: members, by: user, in: c)
                try AuditLog.record(actor: user, action: "web-create-intervention", practice: ods, ruleset: nil, achievementDate: day,
                                    details: ["intervention": String(created), "cohort": id, "patients": String(acted.count),
                                              "comparison": String(members.count - acted.count)], in: c)
                return created
            }
        }
        return .redirect(to: "/practice/\(ods)/intervention/\(created)", type: .normal)
    }

    func interventionsPage(_ viewer: Viewer, ods: String) async throws -> Response {
        let (list, latest) = try await database.run { conn in
            let list = try InterventionStore.list(practice: ods, in: conn)
            return (list, try list.map { try InterventionStore.results($0.id, in: conn).last { $0.dimension == "all" } })
        }
        let suppressed = viewer.seesBeyondPractice(ods)
        return page("interventions", [
            "title": "Interventions, \(ods)", "ods": ods,
            "interventions": zip(list, latest).map { i, r -> [String: Any] in
                ["id": i.id, "name": i.name, "indicator": i.indicator, "frozenOn": i.frozenOn.description,
                 "cohort": suppressed ? Suppression.shown(i.cohortSize).map(String.init) ?? "*" : String(i.cohortSize),
                 "latest": r.map { Self.differenceWords($0, suppressed: suppressed) } ?? "no later run yet"]
            },
            "crumbs": Format.crumbs(("Practice \(ods)", "/practice/\(ods)")),
        ], viewer: viewer)
    }

    func interventionPage(_ viewer: Viewer, ods: String, id: Int64, csv: Bool) async throws -> Response {
        guard let (intervention, results) = try await database.run({ conn -> (InterventionStore.Intervention, [InterventionStore.Result])? in
            guard let i = try InterventionStore.list(practice: ods, in: conn).first(where: { $0.id == id }) else { return nil }
            return (i, try InterventionStore.results(id, in: conn))
        }) else { return message(.notFound, "Unknown intervention", "No intervention \(id) at \(ods).", viewer: viewer) }
        let suppressed = viewer.seesBeyondPractice(ods)
        if csv {
            var lines = ["\u{FEFF}intervention,name,indicator,data_to,dimension,group,cohort_n,cohort_reached,comparison_n,comparison_reached,difference,low_95,high_95"]
            for r in results {
                let n = suppressed ? [r.cohortN, r.cohortReached, r.comparisonN, r.comparisonReached].map { Suppression.shown($0).map(String.init) ?? "*" }
                    : [r.cohortN, r.cohortReached, r.comparisonN, r.comparisonReached].map(String.init)
                let d = suppressed ? nil : r.difference
                lines.append(CSVCell.row([String(id), intervention.name, intervention.indicator, r.dataTo.description, r.dimension, r.group] + n
                                         + [d.map { String(format: "%.4f", $0.difference) } ?? "", d.map { String(format: "%.4f", $0.low) } ?? "",
                                            d.map { String(format: "%.4f", $0.high) } ?? ""]))
            }
            var response = Self.response(status: .ok, type: "text/csv; charset=utf-8", body: lines.joined(separator: "\r\n") + "\r\n")
            response.headers[.contentDisposition] = "attachment; filename=\"\(ods)-intervention-\(id).csv\""
            return response
        }
        let overall = results.filter { $0.dimension == "all" }
        let last = overall.last?.run
        let dimensions = [("imd_quintile", "IMD quintile (1 = most deprived)"), ("ethnic_group", "Ethnic group"), ("sex", "Sex"), ("age_band", "Age band")]
        return page("intervention", [
            "title": intervention.name, "ods": ods, "id": id, "name": intervention.name, "what": intervention.whatWasDone, "indicator": intervention.indicator,
            "ruleset": intervention.ruleset, "frozenOn": intervention.frozenOn.description, "selection": intervention.selection,
            "createdBy": intervention.createdBy, "suppressed": suppressed,
            "reachedWords": intervention.cohort == nil
                ? "in the indicator's numerator in that extract's run (patients who left, died or were excepted count as not reached)"
                : "no longer in the cohort in that extract: the gap closed (patients who left or died count as not reached)",
            "comparisonWords": intervention.cohort == nil
                ? "the rest of the same worklist: in the denominator and not achieving on \(intervention.frozenOn)" : "the rest of the same cohort on \(intervention.frozenOn)",
            "cohort": suppressed ? Suppression.shown(intervention.cohortSize).map(String.init) ?? "*" : String(intervention.cohortSize),
            "comparison": suppressed ? Suppression.shown(intervention.comparisonSize).map(String.init) ?? "*" : String(intervention.comparisonSize),
            "runs": overall.map { Self.resultRow($0, label: $0.dataTo.description, suppressed: suppressed) },
            "forWhom": dimensions.map { key, title -> [String: Any] in
                ["title": title, "rows": results.filter { $0.run == last && $0.dimension == key }.map { Self.resultRow($0, label: $0.group, suppressed: suppressed) }]
            },
            "latestDate": overall.last?.dataTo.description ?? "",
            "chart": overall.count < 1 || suppressed ? "" : Self.impactChart(overall, from: intervention.frozenOn),
            "crumbs": Format.crumbs(("Practice \(ods)", "/practice/\(ods)"), ("Interventions", "/practice/\(ods)/interventions")),
        ], viewer: viewer)
    }

    /// Both arms' share reached, extract by extract, from the day it was frozen (x: days since then).
    static func impactChart(_ overall: [InterventionStore.Result], from start: Day) -> String {
        guard let end = overall.last?.dataTo, end > start else { return "" }
        let span = Double(end.daysSinceEpoch - start.daysSinceEpoch)
        func points(_ share: (InterventionStore.Result) -> Double?) -> [(x: Double, y: Double)] {
            // Nobody had reached it on the day (everyone frozen was open, or in the cohort).
            [(0, 0)] + overall.compactMap { r in share(r).map { (Double(r.dataTo.daysSinceEpoch - start.daysSinceEpoch) / span, 100 * $0) } }
        }
        return Charts.lines(
            title: "Share reached after the intervention: acted on against comparison",
            series: [Charts.Series(label: "Acted on", points: points { $0.cohortN > 0 ? Double($0.cohortReached) / Double($0.cohortN) : nil }),
                     Charts.Series(label: "Comparison", points: points { $0.comparisonN > 0 ? Double($0.comparisonReached) / Double($0.comparisonN) : nil },
                                   dashed: true, colour: "#4c6272")],
            width: 480, height: 200, xLabels: (start.description, end.description))
    }

    static func resultRow(_ r: InterventionStore.Result, label: String, suppressed: Bool) -> [String: String] {
        func count(_ n: Int) -> String { suppressed ? Suppression.shown(n).map(String.init) ?? "*" : String(n) }
        return ["label": label, "cohort": "\(count(r.cohortReached)) of \(count(r.cohortN))", "comparison": "\(count(r.comparisonReached)) of \(count(r.comparisonN))",
                "difference": differenceWords(r, suppressed: suppressed)]
    }

    /// "+18.2 points (95 % CI +9.1 to +26.8): 52.0 % against 33.8 %", or why there is no figure.
    static func differenceWords(_ r: InterventionStore.Result, suppressed: Bool) -> String {
        if suppressed, [r.cohortN, r.cohortReached, r.comparisonN, r.comparisonReached].contains(where: { $0 > 0 && $0 <= 7 }) { return "suppressed (small numbers)" }
        guard let d = r.difference else { return r.comparisonN == 0 ? "no comparison group" : "no patients" }
        func pts(_ x: Double) -> String { String(format: "%+.1f", 100 * x) }
        return "\(pts(d.difference)) points (95 % CI \(pts(d.low)) to \(pts(d.high))): " + String(format: "%.1f %% against %.1f %%", 100 * d.cohortShare, 100 * d.comparisonShare)
    }
}
