import Clusters

/// Checks a parsed ruleset as a whole: every name known, every cluster defined (or declared
/// optional), every chain ending in Select or Reject, no cycles between fields or registers.
struct RulesetValidator {
    let file: String
    let library: ClusterLibrary

    func fail(_ line: Int?, _ rule: String?, _ message: String) -> RulesetError {
        RulesetError(file: file, line: line, rule: rule, message: message)
    }

    func validate(_ r: Ruleset) throws {
        let fieldNames = Set(r.fields.map(\.name))
        let registerNames = Set(r.registers.map(\.id))
        var seen = Set<String>()
        for name in r.fields.map(\.name) + r.registers.map(\.id) {
            guard seen.insert(name).inserted else { throw fail(nil, name, "defined twice") }
            if RulesetLoader.builtins.contains(name) { throw fail(nil, name, "is a built-in name") }
            if r.keyDates[name] != nil { throw fail(nil, name, "is also a key date under dates:") }
        }
        for name in r.keyDates.keys where RulesetLoader.builtins.contains(name) { throw fail(nil, name, "is a built-in name, not a key date") }
        let known = fieldNames.union(registerNames).union(RulesetLoader.builtins).union(r.keyDates.keys)

        func checkCluster(_ name: String, line: Int, context: String) throws {
            if library[name] != nil { return }
            if let ref = r.clusters[name] {
                if let standIn = ref.standIn, library[standIn] == nil {
                    throw fail(line, context, "cluster \(name)'s stand-in \(standIn) is not in the cluster library")
                }
                if ref.standIn != nil || ref.optional { return }
            }
            throw fail(line, context, "unknown cluster \(name) (not in the cluster library; declare it under clusters: with optional: true or a stand_in)")
        }
        func checkExpression(_ e: Expression, line: Int, context: String) throws {
            for name in e.references where !known.contains(name) {
                throw fail(line, context, "unknown field \(name)")
            }
            for cluster in e.clusters { try checkCluster(cluster, line: line, context: context) }
        }

        for f in r.fields {
            for c in f.clusters { try checkCluster(c, line: f.line, context: f.name) }
            for name in f.dependencies where !known.contains(name) || registerNames.contains(name) {
                throw fail(f.line, f.name, registerNames.contains(name) ? "a window cannot depend on a register" : "unknown field \(name)")
            }
        }
        try checkCycles(r.fields.map { ($0.name, $0.dependencies.intersection(fieldNames), $0.line) }, what: "fields")

        func checkChain(_ chain: Chain) throws {
            for (i, rule) in chain.rules.enumerated() {
                try checkExpression(rule.condition, line: rule.line, context: "\(chain.id) rule \(i + 1)")
            }
            guard let last = chain.rules.last, last.then != .next, last.otherwise != .next else {
                throw fail(chain.rules.last?.line ?? chain.line, chain.id,
                           "the chain never ends: its last rule must Select or Reject on both branches")
            }
        }
        for chain in r.registers { try checkChain(chain) }
        try checkCycles(
            r.registers.map { ($0.id, $0.rules.reduce(into: Set<String>()) { $0.formUnion($1.condition.references) }.intersection(registerNames), $0.line) },
            what: "registers")
        for ind in r.indicators {
            guard registerNames.contains(ind.register) else { throw fail(ind.line, ind.id, "unknown register \(ind.register)") }
            try checkChain(ind.denominator)
            try checkChain(ind.numerator)
        }
        if Set(r.indicators.map(\.id)).count != r.indicators.count { throw fail(nil, nil, "an indicator id is used twice") }
        if r.indicators.count > IndicatorMask.capacity {
            throw fail(nil, nil, "\(r.indicators.count) indicators: a ruleset holds at most \(IndicatorMask.capacity) (split it into several rulesets)")
        }
    }

    /// Depth-first search for a cycle; reports it as `A -> B -> A`.
    private func checkCycles(_ nodes: [(String, Set<String>, Int)], what: String) throws {
        let graph = Dictionary(uniqueKeysWithValues: nodes.map { ($0.0, $0.1) })
        let lines = Dictionary(uniqueKeysWithValues: nodes.map { ($0.0, $0.2) })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ n: String) throws {
            if state[n] == 2 { return }
            if state[n] == 1 {
                let cycle = path[path.firstIndex(of: n)!...] + [n]
                throw fail(lines[n], n, "cycle between \(what): \(cycle.joined(separator: " -> "))")
            }
            state[n] = 1
            path.append(n)
            for d in graph[n, default: []].sorted() { try visit(d) }
            path.removeLast()
            state[n] = 2
        }
        for n in graph.keys.sorted() { try visit(n) }
    }
}
