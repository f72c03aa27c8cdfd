import Clinical
import Foundation
import Hummingbird
import Payments
import Postgres
import RulesEngine
import Storage

/// The practice pages: dashboard, indicator (funnel and worklist), worklist export, patient explanation.
extension WebApp {
    func home(_ viewer: Viewer) async throws -> Response {
        let user = viewer.user
        let approver = user.right == .approve
        let (practices, pcns, waiting) = try await database.run { conn in
            let all = try PracticeHistory.practices(inPCN: user.role == .pcn ? user.scope : nil, since: membershipWindowStart(), in: conn)
            let pcns = try VisiblePCNs.visible(user, in: conn)
            let waiting = approver ? try DeclarationStore.awaitingApproval(in: conn) : []
            return (all.map { ["ods": $0.ods, "name": $0.name, "pcn": $0.pcn ?? ""] }, pcns, waiting)
        }
        let visible = practices.filter { viewer.mayView(practice: $0["ods"]!) }
        // A commissioner who approves sees first what waits for them.
        let awaiting = waiting.filter { $0.isPCN ? viewer.mayApprove(pcn: $0.subject.practice) : viewer.mayApprove(practice: $0.subject.practice) }.map { w -> [String: String] in
            ["ods": w.subject.practice, "name": w.practiceName, "ruleset": w.subject.ruleset, "date": w.subject.achievementDate.description,
             "by": w.declaredBy, "at": w.declaredAt, "base": w.isPCN ? "/pcn/\(w.subject.practice)" : "/practice/\(w.subject.practice)"]
        }
        return page("home", ["title": "Practices and PCNs", "practices": visible, "pcns": pcns, "hasPCNs": !pcns.isEmpty,
                             "approver": approver, "awaiting": awaiting, "hasAwaiting": !awaiting.isEmpty], viewer: viewer)
    }

    /// The ruleset asked for, or the current QOF year (the QOF ruleset whose year holds today, else the newest).
    func chosenRuleset(_ id: String?, _ rulesets: [Ruleset]) -> Ruleset? {
        if let id { return rulesets.first { $0.id == id } }
        let today = todayInEngland()
        let qof = rulesets.filter { $0.kind == .qof }
        let pool = qof.isEmpty ? rulesets : qof
        return pool.first { $0.payPeriodStart <= today && today <= $0.payPeriodEnd }
            ?? pool.max { $0.payPeriodEnd < $1.payPeriodEnd } ?? rulesets.first
    }

    func dashboard(_ viewer: Viewer, ods: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets) else {
            return message(.notFound, "Unknown ruleset", "No such ruleset is configured.", viewer: viewer)
        }
        let today = todayInEngland()
        let data = try await database.run { conn -> (StoredFigures?, (name: String, pcn: String?)?, String, [PracticeHistory.Point], [PracticeHistory.Point]) in
            let figures = try StoredFigures.latestRunID(practice: ods, ruleset: rs.id, in: conn).flatMap { try StoredFigures.load(run: $0, in: conn) }
            let org = try PracticeHistory.organisation(ods, on: figures?.achievementDate ?? today, in: conn)
            let state = try figures.map {
                try DeclarationStore.state(.init(practice: ods, ruleset: rs.id, achievementDate: $0.achievementDate), in: conn).words
            } ?? ""
            let thisYear = try PracticeHistory.trend(practice: ods, family: rs.family, from: rs.payPeriodStart, to: rs.payPeriodEnd, in: conn)
            let lastYear = try PracticeHistory.trend(
                practice: ods, family: rs.family, from: rs.payPeriodStart.adding(years: -1), to: rs.payPeriodEnd.adding(years: -1), in: conn)
            return (figures, org, state, thisYear, lastYear)
        }
        let (figures, org, state, thisYear, lastYear) = data
        guard let org else { return message(.notFound, "Unknown practice", "No practice \(ods) is known to qofd.", viewer: viewer) }
        var context: [String: Any] = [
            "title": "\(org.name) dashboard", "ods": ods, "name": org.name, "pcn": org.pcn as Any, "ruleset": rs.id, "rulesetTitle": rs.title,
            "daysLeft": Format.daysLeft(to: rs.payPeriodEnd, today: today), "patientAccess": viewer.mayViewPatients(of: ods),
            "rulesets": inputs.rulesets.map { ["id": $0.id, "current": $0.id == rs.id] }, "vaccination": rs.isProgramme,
            "des": rs.kind == .des, "showPoints": rs.kind == .qof,
            "crumbs": org.pcn.flatMap { viewer.mayView(pcn: $0) ? Format.crumbs(("PCN \($0)", "/pcn/\($0)")) : nil } ?? Format.crumbs(),
        ]
        guard let figures else {
            // No run of the current QOF year yet: open the newest QOF year the practice has figures for instead.
            if Self.query(request, "ruleset") == nil {
                let others = inputs.rulesets.filter { $0.kind == .qof && $0.id != rs.id }.sorted { $0.payPeriodEnd > $1.payPeriodEnd }
                let withRun = try await database.run { conn in
                    try others.first { try StoredFigures.latestRunID(practice: ods, ruleset: $0.id, in: conn) != nil }
                }
                if let other = withRun { return .redirect(to: "/practice/\(ods)?ruleset=\(other.id)", type: .normal) }
            }
            context["noRun"] = true
            return page("practice", context, viewer: viewer)
        }
        let definitions = Dictionary(rs.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var rows: [(stake: Double, row: [String: Any])] = []
        for r in figures.indicators {
            guard let def = definitions[r.id] else { continue }
            rows.append((r.poundsAtStake ?? -1, dashboardRow(r, def, rs, figures: figures, thisYear: thisYear, lastYear: lastYear)))
        }
        // QOF: most pounds at stake first; indicators that cannot be computed take no place in that order and
        // come last. A vaccination programme has no pounds, so its cohorts go by name.
        rows.sort { a, b in
            let (idA, idB) = (a.row["id"] as! String, b.row["id"] as! String)
            return rs.isProgramme || a.stake == b.stake ? idA < idB : a.stake > b.stake
        }
        context["hasRun"] = true
        context["achievementDate"] = figures.achievementDate.description
        context["state"] = state
        context["indicators"] = rows.map(\.row)
        if rs.isProgramme {
            let withTarget = figures.indicators.filter { $0.completeness.computable && ($0.target ?? definitions[$0.id]?.target?.percent) != nil }
            context["cohortCount"] = withTarget.count
            context["cohortsAtTarget"] = withTarget.filter { r in r.achievement.map { $0 >= (r.target ?? definitions[r.id]!.target!.percent) } ?? false }.count
        } else if rs.kind == .qof {
            // Quick wins: the fewest patients between today and the next point, where the figure can be computed.
            let wins = figures.indicators.filter { $0.completeness.computable && ($0.patientsForNextPoint ?? 0) > 0 }
                .sorted { ($0.patientsForNextPoint!, -($0.poundsAtStake ?? 0), $0.id) < ($1.patientsForNextPoint!, -($1.poundsAtStake ?? 0), $1.id) }
                .prefix(5)
            context["hasQuickWins"] = !wins.isEmpty
            context["quickWins"] = wins.map { r -> [String: Any] in
                ["id": r.id, "describe": definitions[r.id]?.describe ?? r.id, "patients": r.patientsForNextPoint!,
                 "plural": r.patientsForNextPoint! == 1 ? "" : "s", "atStake": r.poundsAtStake.map { "£" + Format.pounds($0) } ?? ""]
            }
        }
        context["pointsAchieved"] = Format.points(figures.pointsAchieved)
        context["pointsAvailable"] = Format.points(figures.pointsAvailable)
        if figures.paymentYear != nil, rs.kind == .qof {
            context["hasPounds"] = true
            context["pounds"] = Format.pounds(figures.pounds ?? 0)
            context["poundsAvailable"] = Format.pounds(figures.poundsAvailable ?? 0)
            context["poundsAtStake"] = Format.pounds(figures.poundsAtStake ?? 0)
            if let n = figures.poundsNotAssessed, n > 0.005 { context["poundsNotAssessed"] = Format.pounds(n) }
            if !figures.unverifiedFigures.isEmpty { context["unverified"] = figures.unverifiedFigures.joined(separator: ", ") }
        }
        if !figures.notComputable.isEmpty { context["notComputable"] = figures.notComputable.joined(separator: ", ") }
        return page("practice", context, viewer: viewer)
    }

    /// One indicator's row on the dashboard, from the stored figures.
    private func dashboardRow(_ r: StoredFigures.Indicator, _ def: Indicator, _ rs: Ruleset, figures: StoredFigures,
                              thisYear: [PracticeHistory.Point], lastYear: [PracticeHistory.Point]) -> [String: Any] {
        let span = Double(max(1, rs.payPeriodEnd.daysSinceEpoch - rs.payPeriodStart.daysSinceEpoch))
        func series(_ points: [PracticeHistory.Point], start: Day) -> [(x: Double, y: Double)] {
            points.filter { $0.indicator == r.id }.compactMap { p in
                p.achievement.map { (Double(p.achievementDate.daysSinceEpoch - start.daysSinceEpoch) / span, $0) }
            }
        }
        let c = r.completeness
        let (rag, words) = c.computable ? Format.rag(r.achievement, indicator: def) : ("none", "Cannot be computed: code lists missing")
        let lower = r.lowerThreshold ?? def.lowerThreshold, upper = r.upperThreshold ?? def.upperThreshold
        let target = r.target ?? def.target?.percent
        let now = series(thisYear, start: rs.payPeriodStart)
        let before = series(lastYear, start: rs.payPeriodStart.adding(years: -1))
        let guides: [(label: String, y: Double)] = target.map { [("target", $0)] } ?? [("lower", lower), ("upper", upper)]
        let trend = Charts.lines(
            title: "\(r.id) achievement by run this year\(before.isEmpty ? "" : ", and last year dashed")",
            series: [Charts.Series(label: "this year", points: now), Charts.Series(label: "last year", points: before, dashed: true, colour: "#768692")],
            guides: guides, width: 300, height: 150,
            xLabels: (rs.payPeriodStart.description, rs.payPeriodEnd.description),
            today: Double(todayInEngland().daysSinceEpoch - rs.payPeriodStart.daysSinceEpoch) / span)
        let lastYearValue = lastYear.last { $0.indicator == r.id }?.achievement
        return [
            "id": r.id, "describe": def.describe, "rag": rag, "ragWords": words,
            "achievement": c.computable ? Format.percent(r.achievement) : "cannot be computed",
            "completeness": c.status == .complete ? "" : c.words,
            "thresholds": target.map { Format.percent($0) } ?? "\(Int(lower))–\(Int(upper))%",
            "numerator": r.numerator, "denominator": r.denominator, "points": Format.points(r.points),
            "maxPoints": Format.points(r.maxPoints), "pounds": Format.pounds(r.pounds ?? 0),
            "atStake": r.poundsAtStake.map { "£" + Format.pounds($0) } ?? "not assessed",
            "nextPoint": r.patientsForNextPoint.map(String.init) ?? "–", "trend": trend,
            "sinceLastYear": r.achievement.flatMap { a in lastYearValue.map { a - $0 } }.map { Format.change($0) } ?? "no run last year",
        ]
    }
}

/// PCNs a user may open, for the home page.
enum VisiblePCNs {
    static func visible(_ user: WebAccounts.User, in conn: isolated Postgres.PostgresConnection) throws -> [[String: String]] {
        switch user.role {
        case .practice: return []
        case .pcn: return try PracticeHistory.pcns(in: conn).filter { $0.ods == user.scope }.map { ["ods": $0.ods, "name": $0.name] }
        case .commissioner: return try PracticeHistory.pcns(in: conn).map { ["ods": $0.ods, "name": $0.name] }
        }
    }
}
