import Clinical
import Foundation
import Hummingbird
import RulesEngine
import Storage

/// The practice's landing page: this week's work, from the current QOF year's latest stored run.
extension WebApp {
    func thisWeekPage(_ viewer: Viewer, ods: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets.filter { $0.kind == .qof }) else {
            return message(.notFound, "No QOF year", "No QOF ruleset is configured.", viewer: viewer)
        }
        guard let (run, figures, name) = try await latest(ods, rs) else {
            return message(.notFound, "No results", "No stored run of \(rs.id) for \(ods) yet.", viewer: viewer)
        }
        let today = todayInEngland()
        var context: [String: Any] = [
            "title": "This week's work at \(name)", "ods": ods, "name": name, "ruleset": rs.id, "rulesetTitle": rs.title,
            "achievementDate": run.achievementDate.description, "daysLeft": Format.daysLeft(to: rs.payPeriodEnd, today: today),
            "patientAccess": viewer.mayViewPatients(of: ods),
            "yearEnd": run.achievementDate >= rs.payPeriodEnd,
            "crumbs": Format.crumbs(("\(name) (\(ods))", "/practice/\(ods)?ruleset=\(rs.id)")),
        ]
        if !figures.notComputable.isEmpty { context["notComputable"] = figures.notComputable.joined(separator: ", ") }
        // Aggregates only without patient access: what each indicator still needs, and what a patient is worth.
        var snapshot: PracticeSnapshot?
        if viewer.mayViewPatients(of: ods) {
            do { snapshot = try await self.snapshot(for: run, configured: rs, inputs: inputs, demographicsOnly: true) } catch let problem as SnapshotCache.Problem {
                context["patientsProblem"] = "The patients behind these figures cannot be shown: \(problem)."
            }
        }
        let work = ThisWeek(figures: figures, ruleset: rs, outcomes: { snapshot?.outcomes(of: $0) ?? [:] })
        context["indicators"] = work.indicators.map { v -> [String: Any] in
            ["id": v.id, "describe": v.describe, "patientsToUpper": v.patientsToUpper, "nextPoint": v.patientsForNextPoint.map(String.init) ?? "–",
             "perPatient": "£" + Format.pounds(v.poundsPerPatient), "atStake": "£" + Format.pounds(v.poundsAtStake), "completeness": v.completeness ?? ""]
        }
        if let snapshot {
            let population = snapshot.population
            let shown = work.patients.prefix(50)
            try await audit(viewer, action: "web-view-this-week", practice: ods, ruleset: rs.id, achievementDate: run.achievementDate,
                            details: ["patients": String(shown.count)])
            context["hasPatients"] = true
            context["patientCount"] = work.patients.count
            context["patients"] = shown.map { p -> [String: Any] in
                ["patient": population.patientIDs[p.row], "nhsNumber": Worklist.nhsNumber(population.nhsNumbers[p.row]),
                 "born": population.birthDates[p.row].description, "age": population.birthDates[p.row].age(on: snapshot.compiled.ageOn),
                 "indicators": p.indicators.joined(separator: ", "), "count": p.indicators.count, "pounds": "£" + Format.pounds(p.pounds)]
            }
        }
        return page("thisweek", context, viewer: viewer)
    }
}
