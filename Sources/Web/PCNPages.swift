import Clinical
import Foundation
import Hummingbird
import Payments
import Postgres
import RulesEngine
import Storage

/// The PCN page (member practices side by side, the flu season against target and last season) and
/// the inequalities pages of a practice or a PCN.
extension WebApp {
    func pcnPage(_ viewer: Viewer, ods: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        let today = todayInEngland()
        let qof = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets.filter { $0.kind == .qof })
        let flu = inputs.rulesets.filter { $0.isProgramme && $0.family == "flu" }.max { $0.payPeriodStart < $1.payPeriodStart }
        let all = inputs.rulesets
        typealias Figures = [String: StoredFigures]
        let data = try await database.run { conn -> (String?, [(ods: String, name: String)], Figures, Figures, SeasonView?) in
            let name = try PracticeHistory.pcns(in: conn).first { $0.ods == ods }?.name
            let members = try PracticeHistory.practices(inPCN: ods, since: membershipWindowStart(), in: conn).map { ($0.ods, $0.name) }
            func latest(_ rs: Ruleset?, _ conn: isolated PostgresConnection) throws -> Figures {
                guard let rs else { return [:] }
                var out: Figures = [:]
                for m in members {
                    if let id = try StoredFigures.latestRunID(practice: m.0, ruleset: rs.id, in: conn), let f = try StoredFigures.load(run: id, in: conn) {
                        out[m.0] = f
                    }
                }
                return out
            }
            let fluFigures = try latest(flu, conn)
            var season: SeasonView?
            if let flu {
                // The curve ends on the date of the latest figures in the table beside it: one page, one date.
                let asOf = fluFigures.values.map(\.achievementDate).max() ?? min(today, flu.payPeriodEnd)
                let previous = flu.previous.flatMap { id in all.first { $0.id == id } }
                season = try ResultsQuery.seasonFigures(pcn: ods, season: flu, previous: previous, end: asOf, in: conn).map { SeasonView.from($0, season: flu) }
            }
            return (name, members, try latest(qof, conn), fluFigures, season)
        }
        let (name, members, qofFigures, fluFigures, season) = data
        guard let name else { return message(.notFound, "Unknown PCN", "No PCN \(ods) is known to qofd.", viewer: viewer) }
        func dates(_ f: Figures) -> String {
            let d = Set(f.values.map(\.achievementDate.description)).sorted()
            return d.count == 1 ? "achievement date \(d[0])" : "latest run of each practice (achievement dates \(d.joined(separator: ", ")))"
        }
        func table(_ rs: Ruleset, _ figures: Figures, extra: (String) -> [String: Any] = { _ in [:] }) -> [String: Any] {
            let rows: [[String: Any]] = rs.indicators.compactMap { def in
                let byPractice = members.compactMap { m in figures[m.ods]?.indicators.first { $0.id == def.id }.map { (m.ods, $0) } }
                guard !byPractice.isEmpty else { return nil }
                let lookup = Dictionary(byPractice, uniquingKeysWith: { a, _ in a })
                let cells = members.map { m -> [String: String] in
                    guard let r = lookup[m.ods] else { return ["text": "–"] }
                    guard r.completeness.computable else { return ["text": "cannot be computed", "flag": "code lists missing"] }
                    let text = "\(Format.percent(r.achievement)) (\(r.numerator)/\(r.denominator))"
                    let money = rs.isProgramme ? "" : "\(Format.points(r.points)) pts" + (r.pounds.map { " · £" + Format.pounds($0) } ?? "")
                    let (rag, words) = Format.rag(r.achievement, indicator: def)
                    return ["text": text, "money": money, "rag": rag, "ragWords": words, "link": "/practice/\(m.ods)/indicator/\(def.id)?ruleset=\(rs.id)"]
                }
                let computable = byPractice.allSatisfy { $0.1.completeness.computable }
                let n = byPractice.reduce(0) { $0 + $1.1.numerator }, d = byPractice.reduce(0) { $0 + $1.1.denominator }
                var total = computable ? "\(Format.percent(d > 0 ? 100 * Double(n) / Double(d) : nil)) (\(n)/\(d))" : "cannot be computed"
                if computable && !rs.isProgramme {
                    let pounds = byPractice.compactMap(\.1.pounds)
                    total += " · \(Format.points(byPractice.reduce(0) { $0 + $1.1.points })) pts" + (pounds.isEmpty ? "" : " · £" + Format.pounds(pounds.reduce(0, +)))
                }
                var row: [String: Any] = ["id": def.id, "describe": def.describe, "cells": cells, "total": total,
                                          "completeness": byPractice.first.map { $0.1.completeness.status == .complete ? "" : $0.1.completeness.words } ?? ""]
                row.merge(extra(def.id)) { a, _ in a }
                return row
            }
            // Every indicator together: each practice's points and pounds, and the PCN's.
            let present = members.compactMap { figures[$0.ods] }
            let sums = members.map { m -> [String: String] in
                guard let f = figures[m.ods] else { return ["text": "no run"] }
                return ["text": "\(Format.points(f.pointsAchieved)) of \(Format.points(f.pointsAvailable)) pts" + (f.pounds.map { " · £" + Format.pounds($0) } ?? "")]
            }
            let pounds = present.compactMap(\.pounds)
            let pcnSum = "\(Format.points(present.reduce(0) { $0 + $1.pointsAchieved })) of \(Format.points(present.reduce(0) { $0 + $1.pointsAvailable })) pts"
                + (pounds.isEmpty ? "" : " · £" + Format.pounds(pounds.reduce(0, +)))
            let notComputable = Set(present.flatMap(\.notComputable)).sorted()
            return ["title": rs.title, "practices": members.map { ["ods": $0.ods, "name": $0.name] }, "rows": rows, "dates": dates(figures),
                    "sums": sums, "pcnSum": pcnSum, "notComputable": notComputable.isEmpty ? "" : notComputable.joined(separator: ", "),
                    "unverified": Set(present.flatMap(\.unverifiedFigures)).sorted().joined(separator: ", ")]
        }
        var context: [String: Any] = ["title": "\(name)", "ods": ods, "name": name, "practiceCount": members.count, "fluRuleset": flu?.id ?? "",
                                      "crumbs": Format.crumbs()]
        if let qof, !qofFigures.isEmpty { context["qof"] = table(qof, qofFigures) }
        if let flu, !fluFigures.isEmpty {
            let cohorts = Dictionary(uniqueKeysWithValues: (season?.cohorts ?? []).map { ($0.id, $0) })
            var f = table(flu, fluFigures) { id in
                ["target": Format.percent(cohorts[id]?.target ?? flu.indicators.first { $0.id == id }?.target?.percent),
                 "projected": Format.percent(cohorts[id]?.projectedUptake)]
            }
            let weeks = max(1.0, Double(flu.payPeriodEnd.daysSinceEpoch - flu.payPeriodStart.daysSinceEpoch) / 7)
            f["curves"] = (season?.cohorts ?? []).map { c -> [String: Any] in
                let start = flu.payPeriodStart
                func x(_ w: SeasonView.Week) -> Double { Double((Day(iso: w.week) ?? start).daysSinceEpoch - start.daysSinceEpoch) / 7 / weeks }
                let now = c.weeks.compactMap { w in w.uptake.map { (x(w), $0) } }
                let before = c.weeks.compactMap { w in w.lastSeasonUptake.map { (x(w), $0) } }
                let svg = Charts.lines(
                    title: "\(c.id): PCN uptake week by week\(c.target.map { ", target \(Format.percent($0))" } ?? "")",
                    series: [Charts.Series(label: "this season", points: now),
                             Charts.Series(label: "last season", points: before, dashed: true, colour: "#768692")],
                    guides: c.target.map { [("target", $0)] } ?? [], width: 560, height: 220,
                    xLabels: (flu.payPeriodStart.description, flu.payPeriodEnd.description),
                    today: Double(todayInEngland().daysSinceEpoch - start.daysSinceEpoch) / 7 / weeks)
                let last = c.weeks.last
                return ["id": c.id, "svg": svg,
                        "summary": "on \(last?.week ?? "–"): \(Format.percent(last?.uptake)) (\(last?.numerator ?? 0) of \(last?.denominator ?? 0)), projected \(Format.percent(c.projectedUptake))",
                        "needs": c.practices.filter { $0.neededForTarget > 0 }.map { "\($0.practice): \($0.neededForTarget) more to reach the target on \(last?.week ?? "–")" }]
            }
            context["flu"] = f
        }
        if let des = try await desSection(pcn: ods, rulesets: inputs.rulesets) { context["des"] = des }
        return page("pcn", context, viewer: viewer)
    }

    func inequalitiesPage(_ viewer: Viewer, practice: String?, pcn: String?, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset").flatMap { $0.isEmpty ? nil : $0 }, inputs.rulesets) else {
            return message(.notFound, "Unknown ruleset", "No such ruleset is configured.", viewer: viewer)
        }
        let indicatorID = Self.query(request, "indicator").flatMap { id in rs.indicators.contains { $0.id == id } ? id : nil } ?? rs.indicators.first?.id ?? ""
        let practices: [String] = try await database.run { conn in
            if let practice { return [practice] }
            return try PracticeHistory.practices(inPCN: pcn, since: membershipWindowStart(), in: conn).map(\.ods)
        }
        var tallies: [Inequalities] = []
        var problems: [String] = []
        var completeness: Completeness?
        // Member practices two at a time (each reads its archived extract): a PCN's page waits for the slowest
        // pair, not for every practice in turn.
        typealias Tally = (index: Int, completeness: Completeness?, tally: Inequalities?, problem: String?)
        var gathered: [Tally] = []
        try await withThrowingTaskGroup(of: Tally?.self) { group in
            func add(_ i: Int) {
                let ods = practices[i]
                group.addTask {
                    guard let (run, figures, _) = try await self.latest(ods, rs) else { return nil }
                    let c = figures.indicators.first { $0.id == indicatorID }?.completeness
                    do {
                        let s = try await self.snapshot(for: run, configured: rs, inputs: inputs, demographicsOnly: true)
                        return (i, c, Inequalities(s, indicator: indicatorID, deprivation: self.deprivation, ethnicGroups: self.ethnicGroups), nil)
                    } catch { return (i, c, nil, "\(ods): \(error)") }
                }
            }
            var next = 0
            while next < min(2, practices.count) { add(next); next += 1 }
            while let done = try await group.next() {
                if let done { gathered.append(done) }
                if next < practices.count { add(next); next += 1 }
            }
        }
        for t in gathered.sorted(by: { $0.index < $1.index }) {
            if completeness == nil || completeness?.status == .complete { completeness = t.completeness }
            if let tally = t.tally { tallies.append(tally) }
            if let problem = t.problem { problems.append(problem) }
        }
        let combined = Inequalities.combine(tallies, indicator: indicatorID)
        let suppressed = pcn != nil || practice.map { viewer.seesBeyondPractice($0) } ?? true
        let subject = practice.map { "practice \($0)" } ?? "PCN \(pcn ?? "")"
        var context: [String: Any] = [
            "title": "Inequalities, \(subject)", "subject": "\(indicatorID), \(subject)",
            "action": practice.map { "/practice/\($0)/inequalities" } ?? "/pcn/\(pcn ?? "")/inequalities",
            "crumbs": Format.crumbs((practice.map { "Practice \($0)" } ?? "PCN \(pcn ?? "")",
                                     practice.map { "/practice/\($0)?ruleset=\(rs.id)" } ?? "/pcn/\(pcn ?? "")")),
            "rulesets": inputs.rulesets.map { ["id": $0.id, "current": $0.id == rs.id] },
            "indicators": rs.indicators.map { ["id": $0.id, "describe": $0.describe, "selected": $0.id == indicatorID] },
            "suppressed": suppressed,
        ]
        // A figure on missing code lists is flagged here as everywhere; one that cannot be computed is not split.
        if let c = completeness, c.status != .complete { context["completeness"] = c.words }
        if let c = completeness, !c.computable {
            context["completeness"] = c.words + ". Its achievement is not a measurement, so it is not split by group."
            return page("inequalities", context, viewer: viewer)
        }
        if !problems.isEmpty { context["problem"] = "Some practices' patients cannot be read: " + problems.joined(separator: "; ") }
        if let combined, combined.dimensions.contains(where: { !$0.groups.isEmpty }) {
            context["hasData"] = true
            context["gap"] = combined.deprivationGap(suppressed: suppressed).map { String(format: "%+.1f percentage points (most minus least deprived)", $0) }
                ?? "not shown (too few patients in the most or least deprived fifth)"
            context["dimensions"] = combined.dimensions.map { d -> [String: Any] in
                let groups = d.groups.map { g -> [String: Any] in
                    let den = suppressed ? Suppression.shown(g.denominator) : g.denominator
                    let num = suppressed ? Suppression.shown(g.numerator) : g.numerator
                    let pct = suppressed ? Suppression.percent(g.numerator, of: g.denominator) : g.percent
                    return ["label": g.label, "denominator": den.map(String.init) ?? "*", "numerator": num.map(String.init) ?? "*",
                            "percent": Format.percent(pct), "value": pct as Any]
                }
                let chart = Charts.bars(title: "\(indicatorID) achievement by \(d.name.lowercased())",
                                        rows: groups.map { ($0["label"] as! String, $0["value"] as? Double, $0["percent"] as! String) }, scale: 100)
                return ["name": d.name, "groups": groups, "chart": chart]
            }
        }
        return page("inequalities", context, viewer: viewer)
    }
}

extension Inequalities {
    /// Adds several practices' tallies group by group (a PCN's breakdown).
    static func combine(_ parts: [Inequalities], indicator: String) -> Inequalities? {
        guard var total = parts.first else { return nil }
        for part in parts.dropFirst() {
            for (d, dimension) in part.dimensions.enumerated() {
                for g in dimension.groups {
                    if let i = total.dimensions[d].groups.firstIndex(where: { $0.label == g.label }) {
                        total.dimensions[d].groups[i].denominator += g.denominator
                        total.dimensions[d].groups[i].numerator += g.numerator
                    } else {
                        total.dimensions[d].groups.append(g)
                    }
                }
            }
        }
        return total
    }
}
