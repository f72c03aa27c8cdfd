import Clinical
import Clusters
import Foundation
import Yams

/// A condition of a segment, a PLUS group or a clinical area: the closed vocabulary of `segments.yaml`.
public enum SegmentCondition: Sendable {
    /// A code of the set ever recorded up to the date (set index).
    case any(Int)
    /// A code of the set in the months up to the date.
    case within(Int, months: Int)
    case ltcAtLeast(Int)
    case frailty(Set<FrailtyCategory>)
    case ageUnder(Int)
    case ageAtLeast(Int)
    /// Recorded ethnicity outside the White groups.
    case ethnicMinority
    case always
}

/// The GP-data segmentation as data (`segments.yaml`): long-term conditions, segments from the highest need
/// down (the first matched wins; the last takes everyone), Core20PLUS5's deciles, PLUS groups and clinical
/// areas. Concept sets are numbered; conditions refer to them by number.
public struct SegmentationModel: Sendable {
    public struct LongTermCondition: Sendable {
        public var name: String
        public var diagnosis: Int
        public var resolved: Int?
    }
    public struct Segment: Sendable {
        public var id: String
        public var label: String
        public var when: [SegmentCondition]
    }
    public var title: String
    /// The concept sets conditions refer to.
    public var sets: [Set<UInt64>]
    public var longTermConditions: [LongTermCondition]
    public var segments: [Segment]
    public var core20Deciles: Set<Int>
    public var plus: [(name: String, when: SegmentCondition)]
    public var five: [(name: String, when: SegmentCondition)]
    /// Code lists the model names that the library lacks (what they define stays empty: said on the pages).
    public var missingLists: [String]

    public static func bundled(library: ClusterLibrary) throws -> SegmentationModel {
        guard let url = Bundle.module.url(forResource: "segments", withExtension: "yaml") else { throw FrailtyModelError("segments.yaml is missing from this build") }
        return try parse(try String(contentsOf: url, encoding: .utf8), file: "segments.yaml", library: library)
    }

    public static func parse(_ text: String, file: String, library: ClusterLibrary) throws -> SegmentationModel {
        guard let root = try Yams.compose(yaml: text)?.mapping else { throw FrailtyModelError("\(file): not a mapping") }
        var sets: [Set<UInt64>] = [], missing = Set<String>()
        func set(_ node: Node?) throws -> Int {
            guard let names = node?.sequence?.compactMap({ $0.scalar?.string }), !names.isEmpty else {
                throw FrailtyModelError("\(file): a list of clusters is expected\(node?.mark.map { " (line \($0.line))" } ?? "")")
            }
            var concepts = Set<UInt64>()
            for n in names { if let l = library[n] { concepts.formUnion(l.concepts) } else { missing.insert(n) } }
            sets.append(concepts)
            return sets.count - 1
        }
        func condition(_ node: Node) throws -> SegmentCondition {
            guard let m = node.mapping, m.count == 1, let (k, v) = m.first, let key = k.scalar?.string else {
                throw FrailtyModelError("\(file)\(node.mark.map { " line \($0.line)" } ?? ""): a condition is one of any, within, ltc_at_least, frailty, age_under, age_at_least, ethnic_minority, always")
            }
            func int(_ n: Node?) throws -> Int {
                guard let i = (n?.scalar?.string).flatMap({ Int($0) }) else { throw FrailtyModelError("\(file): \(key) needs a whole number") }
                return i
            }
            switch key {
            case "any": return .any(try set(v))
            case "within": return .within(try set(v.mapping?["clusters"]), months: try int(v.mapping?["months"]))
            case "ltc_at_least": return .ltcAtLeast(try int(v))
            case "frailty":
                let c = try (v.sequence ?? []).map { n -> FrailtyCategory in
                    guard let c = (n.scalar?.string).flatMap(FrailtyCategory.init(rawValue:)) else { throw FrailtyModelError("\(file): unknown frailty category") }
                    return c
                }
                return .frailty(Set(c))
            case "age_under": return .ageUnder(try int(v))
            case "age_at_least": return .ageAtLeast(try int(v))
            case "ethnic_minority": return .ethnicMinority
            case "always": return .always
            default: throw FrailtyModelError("\(file): unknown condition \(key)")
            }
        }
        var ltcs: [LongTermCondition] = []
        for (k, v) in root["long_term_conditions"]?.mapping ?? [:] {
            guard let name = k.scalar?.string, let m = v.mapping else { continue }
            ltcs.append(LongTermCondition(name: name, diagnosis: try set(m["clusters"]), resolved: m["resolved"] == nil ? nil : try set(m["resolved"])))
        }
        var segments: [Segment] = []
        for node in root["segments"]?.sequence ?? [] {
            guard let m = node.mapping, let id = m["id"]?.scalar?.string, let when = m["when"]?.sequence, !when.isEmpty else {
                throw FrailtyModelError("\(file): each segment needs an id and when")
            }
            segments.append(Segment(id: id, label: m["label"]?.scalar?.string ?? id, when: try when.map(condition)))
        }
        guard let last = segments.last, last.when.contains(where: { if case .always = $0 { return true } else { return false } }) else {
            throw FrailtyModelError("\(file): the last segment must take everyone left (when: [{always: true}]), so every patient is in one segment")
        }
        guard Set(segments.map(\.id)).count == segments.count else { throw FrailtyModelError("\(file): a segment id is used twice") }
        func named(_ key: String) throws -> [(name: String, when: SegmentCondition)] {
            var out: [(name: String, when: SegmentCondition)] = []
            for (k, v) in root[key]?.mapping ?? [:] {
                if let name = k.scalar?.string { out.append((name, try condition(v))) }
            }
            return out
        }
        let deciles = Set((root["core20_deciles"]?.sequence ?? []).compactMap { ($0.scalar?.string).flatMap { Int($0) } })
        // Read these before `sets` is handed over: their conditions add sets too.
        let plus = try named("plus"), five = try named("five")
        return SegmentationModel(title: root["model"]?.scalar?.string ?? "segmentation", sets: sets, longTermConditions: ltcs, segments: segments,
                                 core20Deciles: deciles, plus: plus, five: five, missingLists: missing.sorted())
    }
}
