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
        let (practices, pcns) = try await database.run { conn in
            let all = try PracticeHistory.practices(inPCN: user.role == .pcn ? user.scope : nil, since: membershipWindowStart(), in: conn)
            let pcns = try VisiblePCNs.visible(user, in: conn)
            return (all.map { ["ods": $0.ods, "name": $0.name, "pcn": $0.pcn ?? ""] }, pcns)
        }
        let visible = practices.filter { viewer.mayView(practice: $0["ods"]!) }
        return page("home", ["title": "Practices and PCNs", "practices": visible, "pcns": pcns, "hasPCNs": !pcns.isEmpty], viewer: viewer)
    }

    /// The ruleset asked for (or the first configured one that is not a vaccination programme).
    func chosenRuleset(_ id: String?, _ rulesets: [Ruleset]) -> Ruleset? {
        if let id { return rulesets.first { $0.id == id } }
        return rulesets.first { !$0.isProgramme } ?? rulesets.first
    }

    func dashboard(_ viewer: Viewer, ods: String, request: Request) async throws -> Response {
        let inputs = await inputs()
        guard let rs = chosenRuleset(Self.query(request, "ruleset"), inputs.rulesets) else {
            return message(.notFound, "Unknown ruleset", "No such ruleset is configured.", viewer: viewer)
        }
        let today = todayInEngland()
        let data = try await database.run { conn -> (PracticeHistory.Run?, PracticeResult?, (name: String, pcn: String?)?, String, [PracticeHistory.Point], [PracticeHistory.Point]) in
            let run = try PracticeHistory.latestRun(practice: ods, ruleset: rs.id, in: conn)
            let result = try run.map { try PracticeHistory.result(of: $0, in: conn) }
            let org = try PracticeHistory.organisation(ods, on: run?.achievementDate ?? today, in: conn)
            let state = try run.map { try DeclarationStore.state(.init(practice: ods, ruleset: rs.id, achievementDate: $0.achievementDate), in: conn).words } ?? ""
            let thisYear = try PracticeHistory.trend(practice: ods, from: rs.payPeriodStart, to: rs.payPeriodEnd, in: conn)
            let lastYear = try PracticeHistory.trend(practice: ods, from: rs.payPeriodStart.adding(years: -1), to: rs.payPeriodEnd.adding(years: -1), in: conn)
            return (run, result, org, state, thisYear, lastYear)
        }
        let (run, result, org, state, thisYear, lastYear) = data
        guard let org else { return message(.notFound, "Unknown practice", "No practice \(ods) is known to qofd.", viewer: viewer) }
        var context: [String: Any] = [
            "title": "\(org.name) dashboard", "ods": ods, "name": org.name, "pcn": org.pcn as Any, "ruleset": rs.id, "rulesetTitle": rs.title,
            "daysLeft": Format.daysLeft(to: rs.payPeriodEnd, today: today), "patientAccess": viewer.mayViewPatients(of: ods),
            "rulesets": inputs.rulesets.map { ["id": $0.id, "current": $0.id == rs.id] }, "vaccination": rs.isProgramme,
        ]
        guard let run, let result else {
            context["noRun"] = true
            return page("practice", context, viewer: viewer)
        }
        let payment = inputs.nationalFigures[rs.id].map { PaymentCalculator.practice(result, ruleset: rs, national: $0) }
        let byID = Dictionary(uniqueKeysWithValues: (payment?.indicators ?? []).map { ($0.id, $0) })
        let span = Double(max(1, rs.payPeriodEnd.daysSinceEpoch - rs.payPeriodStart.daysSinceEpoch))
        func series(_ points: [PracticeHistory.Point], _ id: String, start: Day) -> [(x: Double, y: Double)] {
            points.filter { $0.indicator == id }.compactMap { p in
                p.achievement.map { (Double(p.achievementDate.daysSinceEpoch - start.daysSinceEpoch) / span, $0) }
            }
        }
        let definitions = Dictionary(uniqueKeysWithValues: rs.indicators.map { ($0.id, $0) })
        var rows: [(Double, [String: Any])] = []
        for r in result.indicators {
            guard let def = definitions[r.id] else { continue }
            let pay = byID[r.id]
            let (rag, words) = Format.rag(r.achievement, indicator: def)
            let now = series(thisYear, r.id, start: rs.payPeriodStart)
            let before = series(lastYear, r.id, start: rs.payPeriodStart.adding(years: -1))
            var guides: [(label: String, y: Double)] = []
            if let t = def.target?.percent { guides = [("target", t)] } else { guides = [("lower", def.lowerThreshold), ("upper", def.upperThreshold)] }
            let trend = Charts.lines(
                title: "\(r.id) achievement by run this year\(before.isEmpty ? "" : ", and last year dashed")",
                series: [Charts.Series(label: "this year", points: now), Charts.Series(label: "last year", points: before, dashed: true, colour: "#768692")],
                guides: guides, width: 180, height: 60)
            let lastYearValue = lastYear.last { $0.indicator == r.id }?.achievement
            rows.append((pay?.poundsAtStake ?? (r.maxPoints - r.points), [
                "id": r.id, "describe": def.describe, "rag": rag, "ragWords": words, "achievement": Format.percent(r.achievement),
                "thresholds": def.target.map { "\(Format.percent($0.percent))" } ?? "\(Int(def.lowerThreshold))–\(Int(def.upperThreshold))%",
                "numerator": r.numerator, "denominator": r.denominator, "points": Format.points(pay?.points ?? r.points),
                "maxPoints": Format.points(r.maxPoints), "pounds": Format.pounds(pay?.pounds ?? 0), "atStake": Format.pounds(pay?.poundsAtStake ?? 0),
                "nextPoint": pay?.patientsForNextPoint.map(String.init) ?? "–", "trend": trend,
                "sinceLastYear": r.achievement.flatMap { a in lastYearValue.map { a - $0 } }.map { Format.change($0) } ?? "no run last year",
            ]))
        }
        // QOF: most pounds at stake first; a vaccination programme has no pounds, so its cohorts go by name.
        rows.sort { a, b in
            let (idA, idB) = (a.1["id"] as! String, b.1["id"] as! String)
            return rs.isProgramme || a.0 == b.0 ? idA < idB : a.0 > b.0
        }
        context["hasRun"] = true
        context["achievementDate"] = run.achievementDate.description
        context["state"] = state
        context["indicators"] = rows.map(\.1)
        let available = result.indicators.filter { $0.registerSize > 0 }
        context["pointsAchieved"] = Format.points(payment?.pointsAchieved ?? result.indicators.reduce(0) { $0 + $1.points })
        context["pointsAvailable"] = Format.points(payment?.pointsAvailable ?? available.reduce(0) { $0 + $1.maxPoints })
        if let payment, !rs.isProgramme {
            context["hasPounds"] = true
            context["pounds"] = Format.pounds(payment.pounds)
            context["poundsAvailable"] = Format.pounds(payment.poundsAvailable)
            context["poundsAtStake"] = Format.pounds(payment.poundsAtStake)
            if !payment.unverifiedFigures.isEmpty { context["unverified"] = payment.unverifiedFigures.joined(separator: ", ") }
        }
        return page("practice", context, viewer: viewer)
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
