import Clinical
import Foundation
import Hummingbird
import RulesEngine
import Storage

/// Declaring on the web: the practice's declarer sees the summary it signs (points, pounds, unverified
/// figures and incomplete indicators called out) and declares; a commissioner approves or returns it
/// with a reason. Every step goes through `DeclarationStore` (its states, snapshot and audit), as the
/// command line does; the page only adds who may press which button.
extension WebApp {
    /// What a declaration form posts.
    enum DeclarationAction: String {
        case declare, approve, `return`
    }

    /// Who declares: a practice (QOF) or a PCN (the Network Contract DES, for its members together).
    enum Declarer: Sendable {
        case practice, pcn

        /// The pages' address for the subject.
        func base(_ ods: String) -> String { self == .pcn ? "/pcn/\(ods)" : "/practice/\(ods)" }

        /// The rulesets this kind of subject declares.
        func declares(_ r: Ruleset) -> Bool { self == .pcn ? r.kind == .des : r.kind == .qof }
    }

    func mayDeclare(_ viewer: Viewer, _ declarer: Declarer, _ ods: String) -> Bool {
        declarer == .pcn ? viewer.mayDeclare(pcn: ods) : viewer.mayDeclare(practice: ods)
    }

    func mayApprove(_ viewer: Viewer, _ declarer: Declarer, _ ods: String) -> Bool {
        declarer == .pcn ? viewer.mayApprove(pcn: ods) : viewer.mayApprove(practice: ods)
    }

    func declarationPage(_ viewer: Viewer, ods: String, declarer: Declarer = .practice, request: Request) async throws -> Response {
        let inputs = await inputs()
        let offered = inputs.rulesets.filter(declarer.declares)
        guard let rs = Self.query(request, "ruleset").flatMap({ id in offered.first { $0.id == id } }) ?? chosenRuleset(nil, offered) else {
            return message(.notFound, "Unknown ruleset", "No such ruleset is configured.", viewer: viewer)
        }
        let done = Self.query(request, "done").flatMap(DeclarationAction.init(rawValue:))
        let date = Self.query(request, "date").flatMap(Day.init(iso:))
        return try await declarationPage(viewer, ods: ods, declarer: declarer, ruleset: rs, date: date, rulesets: offered, done: done, problem: nil)
    }

    /// The page for the latest run on `date` (the latest achievement date when nil).
    func declarationPage(_ viewer: Viewer, ods: String, declarer: Declarer, ruleset rs: Ruleset, date: Day?, rulesets: [Ruleset],
                         done: DeclarationAction?, problem: String?,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let loaded = try await database.run { conn -> (StoredFigures, String, DeclarationStore.State, DeclarationStore.Declared?, String?,
                                                        [DeclarationStore.AuditEntry])? in
            guard let run = try StoredFigures.latestRunID(practice: ods, ruleset: rs.id, on: date, in: conn), let figures = try StoredFigures.load(run: run, in: conn),
                let org = try PracticeHistory.organisation(ods, on: figures.achievementDate, in: conn) else { return nil }
            let s = DeclarationStore.Subject(practice: ods, ruleset: rs.id, achievementDate: figures.achievementDate)
            return (figures, org.name, try DeclarationStore.state(s, in: conn), try DeclarationStore.declared(s, in: conn),
                    try DeclarationStore.latestSnapshot(s, in: conn)?.sha256, try DeclarationStore.trail(s, in: conn))
        }
        guard let (figures, name, state, declared, latestSHA, trail) = loaded else {
            return message(.notFound, "No results", "No stored run of \(rs.id) for \(ods) yet, so there is nothing to declare.", viewer: viewer)
        }
        let definitions = Dictionary(rs.indicators.map { ($0.id, $0.describe) }, uniquingKeysWith: { a, _ in a })
        let missing = figures.indicators.filter { !$0.completeness.computable || $0.completeness.status == .missing }
        let partial = figures.indicators.filter { $0.completeness.computable && $0.completeness.status != .complete && $0.completeness.status != .missing }
        let mayDeclare = self.mayDeclare(viewer, declarer, ods), mayApprove = self.mayApprove(viewer, declarer, ods)
        let openToDeclare = state == .awaitingPracticeDeclaration || state == .returned
        var context: [String: Any] = [
            "title": "Declaration of \(rs.id) for \(name)", "ods": ods, "name": name, "ruleset": rs.id, "rulesetTitle": rs.title,
            // A practice declares QOF years, a PCN the DES; vaccination programmes are claimed item by item.
            "rulesets": rulesets.map { ["id": $0.id, "current": $0.id == rs.id] }, "base": declarer.base(ods),
            "dashboard": declarer == .pcn ? "/pcn/\(ods)" : "/practice/\(ods)?ruleset=\(rs.id)",
            "crumbs": Format.crumbs(("\(name) (\(ods))", declarer == .pcn ? "/pcn/\(ods)" : "/practice/\(ods)?ruleset=\(rs.id)")),
            "achievementDate": figures.achievementDate.description, "run": String(figures.runID), "listSize": figures.listSize,
            "state": state.words(pcn: declarer == .pcn), "stateTag": Self.tag(state),
            "pointsAchieved": Format.points(figures.pointsAchieved), "pointsAvailable": Format.points(figures.pointsAvailable),
            "canDeclare": mayDeclare && openToDeclare, "canApprove": mayApprove && state == .awaitingCommissionerApproval,
            "needsAccept": !figures.incomplete.isEmpty,
        ]
        if figures.paymentYear != nil, !rs.isProgramme {
            context["pounds"] = Format.pounds(figures.pounds ?? 0)
            context["poundsAvailable"] = Format.pounds(figures.poundsAvailable ?? 0)
        }
        context["hasUnverified"] = !figures.unverifiedFigures.isEmpty
        context["unverified"] = figures.unverifiedFigures.map { ["figure": $0] }
        context["hasMissing"] = !missing.isEmpty
        context["hasPartial"] = !partial.isEmpty
        if !missing.isEmpty {
            context["missing"] = missing.map { ["id": $0.id, "describe": definitions[$0.id] ?? "", "words": $0.completeness.words] }
        }
        if !partial.isEmpty {
            context["partial"] = partial.map { ["id": $0.id, "describe": definitions[$0.id] ?? "", "words": $0.completeness.words] }
        }
        if let declared {
            context["declared"] = [
                "by": declared.declaredBy, "at": declared.declaredAt, "note": declared.note ?? "", "run": String(declared.runID),
                "sha": declared.sha256, "shaShort": String(declared.sha256.prefix(16)),
                "changedSince": latestSHA != nil && latestSHA != declared.sha256,
            ] as [String: Any]
        }
        context["trail"] = trail.map { e -> [String: Any] in
            ["at": e.at, "actor": e.actor, "action": Self.actionWords(e.action), "from": e.from.flatMap(DeclarationStore.State.init(rawValue:))?.words(pcn: declarer == .pcn) ?? "",
             "to": e.to.flatMap(DeclarationStore.State.init(rawValue:))?.words(pcn: declarer == .pcn) ?? "", "note": e.note ?? ""]
        }
        context["hasTrail"] = !trail.isEmpty
        if !mayDeclare && openToDeclare {
            context["whoDeclares"] = declarer == .pcn
                ? "The PCN's nominated person declares: an account of the PCN lead role for \(ods) with the declare right (qofd user add … --role pcn --scope \(ods) --right declare)."
                : "Declaring needs an account with the declare right for \(ods) (an administrator gives it with qofd user add … --right declare)."
        }
        if !mayApprove && state == .awaitingCommissionerApproval {
            context["whoApproves"] = "Awaiting a commissioner with the approve right."
        }
        if let done { context["done"] = Self.doneWords(done) }
        if let problem { context["problem"] = problem }
        return page("declaration", context, viewer: viewer, status: status)
    }

    /// A declaration form posted: checks the right and that the figures are still the ones shown, then
    /// takes the step through the workflow; back to the page with what happened.
    func declarationAction(_ viewer: Viewer, ods: String, declarer: Declarer = .practice, form: [String: String]) async throws -> Response {
        let inputs = await inputs()
        let offered = inputs.rulesets.filter(declarer.declares)
        guard let rs = offered.first(where: { $0.id == form["ruleset"] }), let action = form["action"].flatMap(DeclarationAction.init(rawValue:)),
            let date = form["achievement_date"].flatMap(Day.init(iso:))
        else { return message(.badRequest, "Incomplete form", "The form did not say what to do. Go back, reload the page and try again.", viewer: viewer) }
        let allowed = action == .declare ? mayDeclare(viewer, declarer, ods) : mayApprove(viewer, declarer, ods)
        let actor = viewer.user.username
        guard allowed else {
            try await database.run { conn in try WebAccounts.audit(actor: actor, action: "web-refused-\(action.rawValue)", practice: ods, in: conn) }
            let needs = action == .declare ? "the declare right for this \(declarer == .pcn ? "PCN" : "practice")" : "a commissioner's approve right"
            return message(.forbidden, "Not allowed", "Your account cannot \(action.rawValue) this achievement: that needs \(needs).", viewer: viewer)
        }
        let s = DeclarationStore.Subject(practice: ods, ruleset: rs.id, achievementDate: date)
        let (note, reason) = (Self.trimmed(form["note"]), Self.trimmed(form["reason"]) ?? "")
        let accept = form["accept_incomplete"] == "yes", seenRun = form["run"].flatMap { Int64($0) }, seenSHA = form["sha"]
        do {
            try await database.run { conn in
                // What is acted on is what the page showed: a newer run or declaration must be looked at first.
                switch action {
                case .declare: try DeclarationStore.declare(s, by: actor, note: note, acceptIncomplete: accept, seenRun: seenRun ?? -1, in: conn)
                case .approve: try DeclarationStore.approve(s, by: actor, note: note, seenSnapshot: seenSHA ?? "", in: conn)
                case .return: try DeclarationStore.returnToPractice(s, by: actor, reason: reason, seenSnapshot: seenSHA ?? "", in: conn)
                }
            }
        } catch let refused as DeclarationStore.Refused {
            let problem = refused.description.replacingOccurrences(of: " (--reason)", with: "")
                .replacingOccurrences(of: "or declare with --accept-incomplete to accept", with: "or tick the box to accept")
            return try await declarationPage(viewer, ods: ods, declarer: declarer, ruleset: rs, date: date, rulesets: offered, done: nil,
                                             problem: problem.prefix(1).uppercased() + problem.dropFirst() + ".", status: .conflict)
        }
        return .redirect(to: "\(declarer.base(ods))/declaration?ruleset=\(rs.id)&date=\(date)&done=\(action.rawValue)", type: .normal)
    }

    static func trimmed(_ s: String?) -> String? {
        let t = s?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return t.isEmpty ? nil : String(t.prefix(2000))
    }

    static func tag(_ state: DeclarationStore.State) -> String {
        switch state {
        case .awaitingPracticeDeclaration: return "nhsuk-tag--grey"
        case .awaitingCommissionerApproval: return "nhsuk-tag--yellow"
        case .approved: return "nhsuk-tag--green"
        case .returned: return "nhsuk-tag--red"
        }
    }

    static func actionWords(_ action: String) -> String {
        switch action {
        case "declare": return "Declared"
        case "approve": return "Approved"
        case "return": return "Returned to the practice"
        case "figures-changed": return "A later run changed the figures"
        case "figures-changed-after-approval": return "A later run changed the figures after approval"
        default: return action
        }
    }

    static func doneWords(_ action: DeclarationAction) -> String {
        switch action {
        case .declare: return "Declared. The figures are frozen and wait for the commissioner's approval."
        case .approve: return "Approved."
        case .return: return "Returned with your reason."
        }
    }
}
