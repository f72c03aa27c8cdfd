import Clinical
import Clusters
import Yams

extension NodeReader {
    func ruleset(_ root: Node, sha256: String, library: ClusterLibrary) throws -> Ruleset {
        let top = try mapping(root, "ruleset")
        try checkKeys(top, allowed: ["ruleset", "kind", "family", "previous", "title", "source", "dates", "clusters", "fields", "registers",
                                     "indicators", "call_list"], root, "ruleset")
        let id = try string(top["ruleset"], "ruleset", key: "ruleset")
        guard let kind = Ruleset.Kind(rawValue: try string(top["kind"], "ruleset", key: "kind")) else {
            throw fail(top["kind"], "ruleset", "kind must be one of \(Ruleset.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let family = try string(top["family"], "ruleset", key: "family")
        guard let datesNode = top["dates"] else { throw fail(root, "dates", "dates (PPSD, PPED) are required") }
        let dates = try mapping(datesNode, "dates")
        let ppsd = try date(dates["PPSD"], "dates", key: "PPSD")
        let pped = try date(dates["PPED"], "dates", key: "PPED")
        var ageOn = Ruleset.AgeReference.achievementDate
        if let node = dates["AGE_ON"] { ageOn = .fixed(try date(node, "dates", key: "AGE_ON")) }
        var keyDates: [String: Day] = [:]
        for (k, v) in dates {
            let name = try string(k, "dates", key: "date name")
            guard !["PPSD", "PPED", "AGE_ON"].contains(name) else { continue }
            keyDates[name] = try date(v, "dates", key: name)
        }

        var clusters: [String: ClusterReference] = [:]
        if let node = top["clusters"] {
            for (k, v) in try mapping(node, "clusters") {
                let name = try string(k, "clusters", key: "cluster name")
                let m = v.mapping ?? [:]
                clusters[name] = ClusterReference(
                    name: name, refset: m["refset"]?.scalar?.string, standIn: m["stand_in"]?.scalar?.string,
                    optional: m["optional"]?.bool ?? false, note: m["note"]?.scalar?.string)
            }
        }

        var fields: [FieldDefinition] = []
        if let node = top["fields"] {
            for (k, v) in try mapping(node, "fields") { fields.append(try field(k, v)) }
        }
        var registers: [Chain] = []
        if let node = top["registers"] {
            for (k, v) in try mapping(node, "registers") {
                let name = try string(k, "registers", key: "register name")
                let m = try mapping(v, name)
                try checkKeys(m, allowed: ["describe", "rules", "cqrs"], v, name)
                registers.append(Chain(
                    id: name, describe: m["describe"]?.scalar?.string ?? name, cqrs: m["cqrs"]?.scalar?.string,
                    rules: try rules(m["rules"], owner: name), line: k.mark?.line ?? 0))
            }
        }
        var indicators: [Indicator] = []
        if let node = top["indicators"] {
            for (k, v) in try mapping(node, "indicators") { indicators.append(try indicator(k, v)) }
        }
        var ruleset = Ruleset(
            id: id, kind: kind, family: family, previous: top["previous"]?.scalar?.string, title: top["title"]?.scalar?.string ?? id, source: top["source"]?.scalar?.string ?? "",
            sha256: sha256, payPeriodStart: ppsd, payPeriodEnd: pped, ageOn: ageOn, fields: fields, registers: registers,
            indicators: indicators, clusters: clusters)
        ruleset.keyDates = keyDates
        if let node = top["call_list"] {
            let m = try mapping(node, "call_list")
            try checkKeys(m, allowed: ["order", "field"], node, "call_list")
            guard let order = m["order"]?.sequence?.compactMap({ $0.scalar?.string }), !order.isEmpty else {
                throw fail(node, "call_list", "call_list.order must list the cohorts to invite, highest priority first")
            }
            let field = try string(m["field"], "call_list", key: "field")
            for cohort in order {
                guard let indicator = indicators.first(where: { $0.id == cohort }) else {
                    throw fail(node, "call_list", "call_list.order names \(cohort), which is not an indicator of \(id)")
                }
                guard indicator.numerator.rules.contains(where: { $0.field == field && ($0.then == .reject || $0.otherwise == .reject) }) else {
                    throw fail(node, "call_list", "\(cohort)'s numerator has no rule rejecting into \(field), so nobody would be called")
                }
            }
            ruleset.callList = Ruleset.CallList(order: order, field: field)
        }
        try RulesetValidator(file: file, library: library).validate(ruleset)
        return ruleset
    }

    private func field(_ key: Node, _ value: Node) throws -> FieldDefinition {
        let name = try string(key, "fields", key: "field name")
        let m = try mapping(value, name)
        try checkKeys(m, allowed: ["latest", "earliest", "count", "medications", "after", "on_or_after", "before", "on_or_before",
                                   "same_day", "describe"], value, name)
        let kinds = ["latest", "earliest", "count"].filter { m[$0] != nil }
        guard kinds.count == 1, let kind = FieldDefinition.Kind(rawValue: kinds[0]), let clusterNode = m[kinds[0]] else {
            throw fail(value, name, "a field needs exactly one of latest, earliest or count (naming its cluster or clusters)")
        }
        let clusters: [String]
        if let seq = clusterNode.sequence { clusters = seq.compactMap { $0.scalar?.string } } else {
            clusters = [try string(clusterNode, name, key: kinds[0])]
        }
        func window(_ key: String) throws -> Expression? {
            guard let node = m[key] else { return nil }
            return try expression(node, name, key: key).0
        }
        var sameDay = FieldDefinition.SameDay.lowest
        if let node = m["same_day"] {
            guard let s = node.scalar?.string, let v = FieldDefinition.SameDay(rawValue: s) else {
                throw fail(node, name, "same_day must be lowest or highest")
            }
            sameDay = v
        }
        return FieldDefinition(
            name: name, kind: kind, clusters: clusters, medications: m["medications"]?.bool ?? false,
            after: try window("after"), onOrAfter: try window("on_or_after"), before: try window("before"),
            onOrBefore: try window("on_or_before"), sameDay: sameDay, describe: m["describe"]?.scalar?.string ?? name,
            line: key.mark?.line ?? 0)
    }

    private func rules(_ node: Node?, owner: String, numerator: Bool = false) throws -> [Rule] {
        guard let node, let seq = node.sequence, !seq.isEmpty else {
            throw fail(node, owner, "rules must be a non-empty list")
        }
        return try seq.enumerated().map { i, ruleNode in
            let context = "\(owner) rule \(i + 1)"
            let m = try mapping(ruleNode, context)
            try checkKeys(m, allowed: ["if", "then", "else", "field", "kind", "describe"], ruleNode, context)
            let (condition, text) = try expression(m["if"], context, key: "if")
            func action(_ key: String, _ fallback: RuleAction) throws -> RuleAction {
                guard let n = m[key] else { return fallback }
                guard let s = n.scalar?.string, let a = RuleAction(rawValue: s) else {
                    throw fail(n, context, "\(key) must be select, reject or next")
                }
                return a
            }
            // A field named by a numerator rule is a tally inside the denominator; by a denominator rule, an exclusion
            // unless it says it is a PCA.
            var kind: FieldKind = numerator ? .tally : .exclusion
            if let n = m["kind"] {
                guard let s = n.scalar?.string, let k = FieldKind(rawValue: s), numerator == (k == .tally) else {
                    throw fail(n, context, numerator ? "a numerator field is a tally (kind: tally)" : "kind must be pca or exclusion")
                }
                kind = k
            }
            return Rule(
                condition: condition, conditionText: text, then: try action("then", .next), otherwise: try action("else", .next),
                field: m["field"]?.scalar?.string, kind: kind, describe: m["describe"]?.scalar?.string,
                line: ruleNode.mark?.line ?? 0)
        }
    }

    private func indicator(_ key: Node, _ value: Node) throws -> Indicator {
        let id = try string(key, "indicators", key: "indicator id")
        let m = try mapping(value, id)
        try checkKeys(m, allowed: ["describe", "group", "register", "points", "thresholds", "source", "verified", "denominator",
                                   "numerator", "target", "payment", "cqrs_register"], value, id)
        var payment = Indicator.Payment.threshold
        if let n = m["payment"] {
            guard let raw = n.scalar?.string, let p = Indicator.Payment(rawValue: raw) else {
                throw fail(n, id, "payment must be threshold, register or protected")
            }
            payment = p
        }
        // Without rules, a register indicator counts everyone on its register (denominator and numerator);
        // an income-protected one counts no one (its points are last year's, and no patient outcomes are kept).
        func chain(_ key: String) throws -> [Rule] {
            if m[key] == nil, payment != .threshold {
                let register = payment == .register
                return [Rule(condition: .boolean(true), conditionText: "true", then: register ? .select : .reject, otherwise: .reject,
                             field: nil, kind: .exclusion, describe: register ? "on the register" : "income-protected: paid at last year's points",
                             line: 0)]
            }
            return try rules(m[key], owner: "\(id) \(key)", numerator: key == "numerator")
        }
        var target: Target?
        if let t = m["target"] {
            let tm = try mapping(t, id)
            target = Target(percent: try number(tm["percent"], id, key: "target.percent"), source: tm["source"]?.scalar?.string ?? "",
                            verified: tm["verified"]?.bool ?? true)
        }
        var lower = 0.0
        var upper = 100.0
        if let t = m["thresholds"] {
            let tm = try mapping(t, id)
            lower = try number(tm["lower"], id, key: "thresholds.lower")
            upper = try number(tm["upper"], id, key: "thresholds.upper")
            guard lower >= 0, lower < upper, upper <= 100 else { throw fail(t, id, "thresholds must satisfy 0 ≤ lower < upper ≤ 100") }
        }
        let line = key.mark?.line ?? 0
        var indicator = Indicator(
            id: id, describe: m["describe"]?.scalar?.string ?? id, group: m["group"]?.scalar?.string ?? "",
            register: try string(m["register"], id, key: "register"),
            denominator: Chain(id: "\(id) denominator", describe: "denominator", cqrs: nil, rules: try chain("denominator"), line: line),
            numerator: Chain(id: "\(id) numerator", describe: "numerator", cqrs: nil, rules: try chain("numerator"), line: line),
            points: m["points"] == nil ? 0 : try number(m["points"], id, key: "points"), lowerThreshold: lower, upperThreshold: upper,
            source: m["source"]?.scalar?.string ?? "", verified: m["verified"]?.bool ?? true, target: target, payment: payment, line: line)
        if let label = m["cqrs_register"]?.scalar?.string { indicator.cqrsRegister = label == "none" ? "" : label }
        return indicator
    }
}
