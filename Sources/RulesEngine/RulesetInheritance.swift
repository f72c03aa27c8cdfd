import Yams

/// `extends:` — a ruleset written as another one plus explicit changes, so one year's rules are not a
/// copy of the next. The child names its parent by id; its `clusters`, `fields`, `registers` and
/// `indicators` entries add to or override the parent's (an indicator entry overrides key by key, so
/// `HYP008: {points: 20}` changes only the points; any other entry replaces the parent's whole), `remove:`
/// lists what the child drops, and its top-level keys (`ruleset`, `title`, `dates`, …) replace the parent's.
/// The merged ruleset is written out as one self-contained text: its SHA-256 is the ruleset's hash, and it is
/// the text stored with each run.
enum RulesetInheritance {
    static let sections = ["clusters", "fields", "registers", "indicators"]

    /// The merged mapping of `root` (unchanged when it extends nothing) and what it changes in its parent.
    static func merge(_ root: Node, file: String, parents: [String: (text: String, file: String)], seen: Set<String> = []) throws
        -> (node: Node, changes: [String])
    {
        guard var child = root.mapping, let parentNode = child["extends"] else { return (root, []) }
        guard let parentID = parentNode.scalar?.string else {
            throw RulesetError(file: file, line: parentNode.mark?.line, rule: "extends", message: "extends names a ruleset id")
        }
        guard !seen.contains(parentID) else {
            throw RulesetError(file: file, line: parentNode.mark?.line, rule: "extends", message: "rulesets extend each other in a cycle (\(parentID))")
        }
        guard let source = parents[parentID] else {
            throw RulesetError(file: file, line: parentNode.mark?.line, rule: "extends", message: "no ruleset \(parentID) to extend")
        }
        guard let parentRoot = (try? Yams.compose(yaml: source.text)) ?? nil else {
            throw RulesetError(file: file, line: parentNode.mark?.line, rule: "extends", message: "\(parentID) (\(source.file)) is not valid YAML: fix it first")
        }
        let id = child["ruleset"]?.scalar?.string ?? file
        guard var merged = try merge(parentRoot, file: source.file, parents: parents, seen: seen.union([id])).node.mapping else {
            throw RulesetError(file: source.file, line: nil, rule: nil, message: "the ruleset is not a mapping")
        }
        var changes: [String] = []
        let removals = child["remove"]?.mapping
        child["extends"] = nil
        child["remove"] = nil
        for (keyNode, value) in child {
            guard let key = keyNode.scalar?.string else { continue }
            guard sections.contains(key), let entries = value.mapping else {
                merged[key] = value
                continue
            }
            var section = merged[key]?.mapping ?? Node.Mapping([])
            var added: [String] = [], overridden: [String] = []
            for (nameNode, entry) in entries {
                guard let name = nameNode.scalar?.string else { continue }
                if let existing = section[name] {
                    if key == "indicators", var base = existing.mapping, let delta = entry.mapping {
                        // An indicator is overridden key by key (points, thresholds, a chain, …).
                        let keys = delta.keys.compactMap { $0.scalar?.string }
                        for (k, v) in delta { base[k] = v }
                        section[name] = .mapping(base)
                        overridden.append("\(name) (\(keys.joined(separator: ", ")))")
                    } else {
                        section[name] = entry
                        overridden.append(name)
                    }
                } else {
                    section[name] = entry
                    added.append(name)
                }
            }
            merged[key] = .mapping(section)
            if !added.isEmpty { changes.append("adds \(added.count) \(key): \(added.joined(separator: ", "))") }
            if !overridden.isEmpty { changes.append("overrides \(overridden.count) \(key): \(overridden.joined(separator: "; "))") }
        }
        for (keyNode, list) in removals ?? Node.Mapping([]) {
            guard let key = keyNode.scalar?.string, sections.contains(key), var section = merged[key]?.mapping else {
                throw RulesetError(file: file, line: keyNode.mark?.line, rule: "remove", message: "remove takes \(sections.joined(separator: ", "))")
            }
            let names = list.sequence?.compactMap { $0.scalar?.string } ?? []
            for name in names {
                guard section[name] != nil else {
                    throw RulesetError(file: file, line: keyNode.mark?.line, rule: "remove", message: "\(parentID) has no \(key) entry \(name) to remove")
                }
                section[name] = nil
            }
            merged[key] = .mapping(section)
            changes.append("removes \(names.count) \(key): \(names.joined(separator: ", "))")
        }
        return (.mapping(merged), ["extends \(parentID)"] + changes)
    }
}
