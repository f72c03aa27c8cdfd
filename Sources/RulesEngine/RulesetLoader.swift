import Clinical
import Clusters
import Crypto
import Foundation
import Yams

/// A rule file that cannot be used, with the file, line and rule at fault.
public struct RulesetError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let rule: String?
    public let message: String

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let rule { place += " (\(rule))" }
        return "\(place): \(message)"
    }
}

/// Reads and checks rule files (YAML): shape, expressions, unknown names and clusters, chains that
/// never end in Select or Reject, and cycles between fields.
public struct RulesetLoader: Sendable {
    /// Names the engine provides for every patient.
    static let builtins: Set<String> = ["PAT_AGE", "PAT_SEX", "PAT_DOB", "PAT_ETHNICITY", "REG_DAT", "PPSD", "PPED", "ACHV_DAT"]

    public let library: ClusterLibrary

    public init(library: ClusterLibrary) { self.library = library }

    /// The rulesets shipped with qofd, by id.
    public static func bundledFiles() -> [URL] {
        guard let dir = Bundle.module.url(forResource: "Rulesets", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appending(path: $0) }
    }

    /// Every ruleset in the bundled set plus those in `directories` (a later one with the same id wins).
    public func loadAll(directories: [URL] = []) throws -> [String: Ruleset] {
        var files = Self.bundledFiles()
        for dir in directories {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            files += names.sorted().map { dir.appending(path: $0) }
        }
        // Every file's text by its ruleset id first (a later one with the same id wins), so `extends` finds its parent.
        var texts: [String: (text: String, file: String)] = [:]
        var order: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let id = (try? Yams.compose(yaml: text))??.mapping?["ruleset"]?.scalar?.string ?? file.lastPathComponent
            if texts[id] == nil { order.append(id) }
            texts[id] = (text, file.lastPathComponent)
        }
        var out: [String: Ruleset] = [:]
        for id in order {
            let ruleset = try parse(texts[id]!.text, file: texts[id]!.file, parents: texts)
            out[ruleset.id] = ruleset
        }
        return out
    }

    public func load(_ url: URL) throws -> Ruleset {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text, file: url.lastPathComponent)
    }

    /// Parses a rule file; one that `extends` another finds it in `parents` (by id) and is merged with it first.
    public func parse(_ text: String, file: String, parents: [String: (text: String, file: String)] = [:]) throws -> Ruleset {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RulesetError(file: file, line: nil, rule: nil, message: "the file is empty")
            }
            root = node
        } catch let error as YamlError {
            throw RulesetError(file: file, line: nil, rule: nil, message: "not valid YAML: \(error)")
        }
        let reader = NodeReader(file: file)
        let (merged, changes) = try RulesetInheritance.merge(root, file: file, parents: parents)
        // A ruleset that extends another is known by its merged text (self-contained: it is what runs store).
        let mergedText = changes.isEmpty ? text : try Yams.serialize(node: merged, width: -1, allowUnicode: true)
        var ruleset = try reader.ruleset(merged, sha256: sha256(mergedText), library: library)
        ruleset.text = mergedText
        ruleset.changes = changes
        return ruleset
    }

    private func sha256(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Walks the YAML tree, keeping line numbers for every error.
struct NodeReader {
    let file: String

    func fail(_ node: Node?, _ rule: String?, _ message: String) -> RulesetError {
        RulesetError(file: file, line: node?.mark.map { $0.line }, rule: rule, message: message)
    }

    func mapping(_ node: Node, _ context: String) throws -> Node.Mapping {
        guard let m = node.mapping else { throw fail(node, context, "expected a mapping of keys to values") }
        return m
    }

    func string(_ node: Node?, _ context: String, key: String) throws -> String {
        guard let node, let s = node.scalar?.string else { throw fail(node, context, "\(key) is required (a text value)") }
        return s
    }

    func number(_ node: Node?, _ context: String, key: String) throws -> Double {
        guard let node, let s = node.scalar?.string, let v = Double(s) else { throw fail(node, context, "\(key) must be a number") }
        return v
    }

    func date(_ node: Node?, _ context: String, key: String) throws -> Day {
        guard let node, let s = node.scalar?.string, s.count == 10, let d = Day(iso: s) else {
            throw fail(node, context, "\(key) must be a date YYYY-MM-DD")
        }
        return d
    }

    func expression(_ node: Node?, _ context: String, key: String) throws -> (Expression, String) {
        guard let node, let text = node.scalar?.string else { throw fail(node, context, "\(key) is required (an expression)") }
        do {
            return (try ExpressionParser.parse(text), text)
        } catch let e as ExpressionError {
            throw fail(node, context, "\(key) '\(text)': \(e.message) at character \(e.offset + 1)")
        }
    }

    func checkKeys(_ m: Node.Mapping, allowed: Set<String>, _ node: Node, _ context: String) throws {
        for (k, _) in m {
            guard let key = k.scalar?.string else { continue }
            if !allowed.contains(key) {
                throw fail(k, context, "unknown key '\(key)' (expected one of \(allowed.sorted().joined(separator: ", ")))")
            }
        }
    }
}

