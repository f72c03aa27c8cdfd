import Clinical
import Foundation
import Hummingbird
import QRISK3
import RulesEngine
import Storage
import Stratification

/// Cohorts to act on: the list with how many patients each holds (counts only), and each cohort's patients
/// with why (patient access, audited, exportable as CSV), from the practice's latest extract.
extension WebApp {
    /// The latest extract's patients with their records (through the current QOF year's latest run).
    func latestPopulation(_ ods: String) async throws -> (Population, Day)? {
        try await latestPopulationAndRun(ods).map { ($0.0, $0.1) }
    }

    /// The same with the run it was read through (an intervention frozen from a cohort names it).
    func latestPopulationAndRun(_ ods: String) async throws -> (Population, Day, PracticeHistory.Run)? {
        let inputs = await inputs()
        guard let rs = chosenRuleset(nil, inputs.rulesets.filter { $0.kind == .qof }), let (run, _, _) = try await latest(ods, rs) else { return nil }
        let snapshot = try await self.snapshot(for: run, configured: rs, inputs: inputs)
        return (snapshot.population, snapshot.population.dataTo, run)
    }

    func cohortPage(_ viewer: Viewer, ods: String, id: String, csv: Bool) async throws -> Response {
        guard let stratifier = await stratifier(), let cohort = stratifier.cohorts.first(where: { $0.id == id }) else {
            return message(.notFound, "Unknown cohort", "No cohort \(id).", viewer: viewer)
        }
        guard let (population, day) = try await latestPopulation(ods) else {
            return message(.notFound, "No extract", "No extract of \(ods) can be read yet.", viewer: viewer)
        }
        let members = CohortFinder(stratifier: stratifier, population: population, decile: { self.deprivation.areas[$0]?.decile }).members(cohort, on: day)
        try await audit(viewer, action: csv ? "web-export-cohort" : "web-view-cohort", practice: ods, ruleset: nil, achievementDate: day,
                        details: ["cohort": id, "patients": String(members.count)])
        if csv {
            var lines = ["\u{FEFF}patient_id,nhs_number,date_of_birth,age,cohort,why"]
            for m in members {
                lines.append(CSVCell.row([population.patientIDs[m.row], Worklist.nhsNumber(population.nhsNumbers[m.row]), population.birthDates[m.row].description,
                                          String(population.birthDates[m.row].age(on: day)), id, m.why.joined(separator: "; ")]))
            }
            var response = Self.response(status: .ok, type: "text/csv; charset=utf-8", body: lines.joined(separator: "\r\n") + "\r\n")
            response.headers[.contentDisposition] = "attachment; filename=\"\(ods)-\(id)-\(day).csv\""
            return response
        }
        return page("cohort", [
            "title": "\(cohort.label), \(ods)", "ods": ods, "id": id, "label": cohort.label, "source": cohort.source, "asOf": day.description,
            "count": members.count, "disclaimer": QRISK3.disclaimer,
            "patients": members.prefix(200).map { m -> [String: Any] in
                ["patient": population.patientIDs[m.row], "nhsNumber": Worklist.nhsNumber(population.nhsNumbers[m.row]),
                 "born": population.birthDates[m.row].description, "age": population.birthDates[m.row].age(on: day), "why": m.why.joined(separator: "; ")]
            },
            "more": members.count > 200 ? "The first 200 are shown; the CSV export holds all \(members.count)." : "",
            "crumbs": Format.crumbs(("Practice \(ods)", "/practice/\(ods)"), ("Cohorts", "/practice/\(ods)/cohorts")),
        ], viewer: viewer)
    }
}
