import Clinical
import Foundation
import Hummingbird
import Payments
import QRISK3
import Storage
import Stratification

/// What confirming and coding a case-finding cohort would do to its QOF register: the register and prevalence
/// before and after, and the pounds that scale with prevalence at today's achievement rates. Read from the
/// stored run's figures; indicative (achievement, thresholds and the national figures stay as they are).
public struct RegisterEffect: Sendable, Equatable {
    public var register: String
    public var found: Int
    public var before: Int
    public var listSize: Int
    /// Extra pounds a year from the prevalence-weighted indicators of the register (nil: no pounds stored).
    public var pounds: Double?

    public var after: Int { before + found }
    public var prevalenceBefore: Double? { listSize > 0 ? 100 * Double(before) / Double(listSize) : nil }
    public var prevalenceAfter: Double? { listSize > 0 ? 100 * Double(after) / Double(listSize) : nil }

    /// The effect of `found` more patients on `register` in a stored QOF run; nil when no indicator of the run
    /// reads that register. Pounds: each prevalence-weighted indicator's pounds grow with its register (the
    /// prevalence factor is the practice's prevalence over the national), so by found ÷ register.
    public static func of(found: Int, register: String, figures: StoredFigures) -> RegisterEffect? {
        let reading = figures.indicators.filter { $0.register == register }
        guard let size = reading.map(\.registerSize).max() else { return nil }
        var pounds: Double?
        if figures.pounds != nil {
            pounds = size > 0
                ? reading.filter { ($0.prevalenceFactor ?? 1) != 1 }.reduce(0) { $0 + ($1.pounds ?? 0) * Double(found) / Double(size) } : nil
        }
        return RegisterEffect(register: register, found: found, before: size, listSize: figures.listSize, pounds: pounds)
    }

    /// "HYP_REG 812 → 849 (prevalence 12.1 % → 12.6 %); about £1,234 more a year at today's achievement".
    public var words: String {
        var text = "\(register) \(before) → \(after)"
        if let a = prevalenceBefore, let b = prevalenceAfter { text += String(format: " (prevalence %.1f %% → %.1f %%)", a, b) }
        if let pounds { text += before > 0 ? "; about £\(Format.pounds(pounds)) more a year at today's achievement" : "" }
        else if before == 0 { text += "; the register is empty today, so its points are not paid yet" }
        return text
    }
}

/// The cohorts pages read each cohort's members from the stored summary of the latest extract (counted when the
/// extract was processed), beside the PCN's share; the PCN's page sets its practices side by side.
extension WebApp {
    /// The practice's latest summary and its PCN's members' (for the PCN share), with the latest QOF run's figures.
    func storedCohorts(_ ods: String) async throws
        -> (mine: (PopulationStore.Run, [PopulationSummary.Count])?, pcn: [(PopulationStore.Run, [PopulationSummary.Count])], figures: StoredFigures?)
    {
        let inputs = await inputs()
        var figures: StoredFigures?
        if let qof = chosenRuleset(nil, inputs.rulesets.filter { $0.kind == .qof }) { figures = try await latest(ods, qof)?.1 }
        let (mine, pcn) = try await database.run { conn in
            let mine = try PopulationStore.latest(practice: ods, in: conn)
            guard let code = try PracticeHistory.organisation(ods, on: todayInEngland(), in: conn)?.pcn else { return (mine, [(PopulationStore.Run, [PopulationSummary.Count])]()) }
            return (mine, try Self.populationSummaries(pcn: code, in: conn))
        }
        return (mine, pcn, figures)
    }

    func cohortsPage(_ viewer: Viewer, ods: String) async throws -> Response {
        guard let stratifier = await stratifier() else { return message(.notFound, "No cohorts", "The cohorts cannot be read.", viewer: viewer) }
        let (mine, pcn, figures) = try await storedCohorts(ods)
        guard let (run, counts) = mine else {
            return message(.notFound, "No extract", "No population summary of \(ods) is stored yet (one is made with each extract).", viewer: viewer)
        }
        let suppressed = viewer.seesBeyondPractice(ods)
        func shown(_ n: Int) -> String { suppressed ? Suppression.shown(n).map(String.init) ?? "*" : String(n) }
        func cohortCount(_ counts: [PopulationSummary.Count], _ id: String) -> Int {
            counts.first { $0.measure == "cohort" && $0.category == id && $0.dimension == "all" }?.value ?? 0
        }
        let pcnList = pcn.reduce(0) { $0 + $1.0.listSize }
        let groups = ["cohort": "Cohorts to act on", "case finding": "Case finding", "missing from the data": "People the data misses"]
        // Cohorts to act on, then case finding, then the people the data misses; by name within each.
        let order = ["cohort": 0, "case finding": 1, "missing from the data": 2]
        let sorted = stratifier.cohorts.sorted { (order[$0.group] ?? 3, $0.label) < (order[$1.group] ?? 3, $1.label) }
        let rows = sorted.map { c -> [String: String] in
            let n = cohortCount(counts, c.id)
            let pcnN = pcn.reduce(0) { $0 + cohortCount($1.1, c.id) }
            var row = ["id": c.id, "label": c.label, "source": c.source, "group": groups[c.group] ?? c.group, "count": shown(n),
                       "share": suppressed ? Format.percent(Suppression.percent(n, of: run.listSize)) : Format.percent(run.listSize > 0 ? 100 * Double(n) / Double(run.listSize) : nil),
                       "pcnShare": pcn.count > 1 ? Format.percent(Suppression.percent(pcnN, of: pcnList)) : "",
                       "missing": c.missingLists.isEmpty ? "" : "rests on code lists qofd does not ship (\(c.missingLists.joined(separator: ", "))): undercounts"]
            if n > 0, let register = c.register, let figures, let effect = RegisterEffect.of(found: n, register: register, figures: figures) {
                row["effect"] = suppressed ? "" : "If all were confirmed and coded: " + effect.words
            }
            return row
        }
        return page("cohorts", [
            "title": "Cohorts to act on, \(ods)", "ods": ods, "asOf": run.asOf.description, "cohorts": rows, "patientAccess": viewer.mayViewPatients(of: ods),
            "pcnCompared": pcn.count > 1, "unverified": figures.map { !$0.unverifiedFigures.isEmpty } ?? false,
            "disclaimer": QRISK3.disclaimer, "crumbs": Format.crumbs(("Practice \(ods)", "/practice/\(ods)")),
        ], viewer: viewer)
    }

    /// `/pcn/U…/cohorts`: each cohort's members in each practice and the PCN, as counts and shares of the list,
    /// suppressed as everything beyond a practice.
    func pcnCohortsPage(_ viewer: Viewer, pcn code: String) async throws -> Response {
        guard let stratifier = await stratifier() else { return message(.notFound, "No cohorts", "The cohorts cannot be read.", viewer: viewer) }
        let (name, members) = try await database.run { conn in
            (try PCNRuns.name(of: code, in: conn), try Self.populationSummaries(pcn: code, in: conn))
        }
        guard !members.isEmpty else { return message(.notFound, "No summaries", "No population summary is stored for \(code)'s practices yet.", viewer: viewer) }
        func count(_ counts: [PopulationSummary.Count], _ id: String) -> Int {
            counts.first { $0.measure == "cohort" && $0.category == id && $0.dimension == "all" }?.value ?? 0
        }
        func cell(_ n: Int, _ list: Int) -> [String: String] {
            ["count": Suppression.shown(n).map(String.init) ?? "*", "share": Format.percent(Suppression.percent(n, of: list))]
        }
        let total = members.reduce(0) { $0 + $1.0.listSize }
        let rows = stratifier.cohorts.map { c -> [String: Any] in
            ["label": c.label, "group": c.group, "cells": members.map { cell(count($0.1, c.id), $0.0.listSize) },
             "pcn": cell(members.reduce(0) { $0 + count($1.1, c.id) }, total)]
        }
        return page("pcn-cohorts", [
            "title": "Cohorts and case finding, \(name)", "name": name, "pcn": code, "practices": members.map { ["ods": $0.0.practice, "asOf": $0.0.asOf.description] },
            "cohorts": rows, "crumbs": Format.crumbs((name, "/pcn/\(code)")),
        ], viewer: viewer)
    }
}
