import Clinical
import Clusters
import Foundation
import Yams

/// The frailty categories of the eFI.
public enum FrailtyCategory: String, Sendable, Codable, CaseIterable, Comparable {
    case fit, mild, moderate, severe

    /// The place in `allCases` (fit 0 … severe 3), without making the array.
    public var ordinal: Int {
        switch self {
        case .fit: return 0
        case .mild: return 1
        case .moderate: return 2
        case .severe: return 3
        }
    }

    public static func < (a: FrailtyCategory, b: FrailtyCategory) -> Bool { a.ordinal < b.ordinal }
}

/// The eFI estimate as data (`frailty-efi.yaml`): which code lists make each deficit, the polypharmacy rule,
/// the category boundaries and the rule at them, and which clusters record a frailty. The assessment code knows
/// the vocabulary, not the deficits.
public struct FrailtyModel: Sendable {
    public struct Deficit: Sendable {
        public var name: String
        public var label: String
        public var concepts: Set<UInt64>
    }
    /// How a score is compared with the boundaries: as the exact fraction, or first rounded to two decimals.
    public enum Rounding: String, Sendable { case exact, twoDecimals = "two-decimals" }

    public var title: String
    public var minimumAge: Int
    public var deficitCount: Int
    public var deficits: [Deficit]
    public var polypharmacyLabel: String
    public var polypharmacyMedicines: Int
    public var polypharmacyMonths: Int
    public var mildAbove: Double
    public var moderateAbove: Double
    public var severeAbove: Double
    public var rounding: Rounding
    public var recordedScore: Set<UInt64>
    public var recordedCategories: [(FrailtyCategory, Set<UInt64>)]
    public var recordedEFI2: Set<UInt64>
    /// Code lists the model names that the library does not have (their deficits are never found).
    public var missingLists: [String]

    /// The category of a score (deficits ÷ deficit count), with the boundary rule.
    public func category(_ score: Double) -> FrailtyCategory {
        let s = rounding == .exact ? score : (score * 100).rounded() / 100
        if s > severeAbove { return .severe }
        if s > moderateAbove { return .moderate }
        return s > mildAbove ? .mild : .fit
    }

    /// The model shipped with qofd (`rounding` overrides the file's boundary rule when given).
    public static func bundled(library: ClusterLibrary, rounding: Rounding? = nil) throws -> FrailtyModel {
        guard let url = Bundle.module.url(forResource: "frailty-efi", withExtension: "yaml") else { throw FrailtyModelError("frailty-efi.yaml is missing from this build") }
        var model = try parse(try String(contentsOf: url, encoding: .utf8), file: "frailty-efi.yaml", library: library)
        if let rounding { model.rounding = rounding }
        return model
    }

    /// Reads a model file; names the file and the key that is wrong.
    public static func parse(_ text: String, file: String, library: ClusterLibrary) throws -> FrailtyModel {
        guard let root = try Yams.compose(yaml: text)?.mapping else { throw FrailtyModelError("\(file): not a mapping") }
        func number(_ m: Node.Mapping?, _ key: String) throws -> Double {
            guard let v = (m?[key]?.scalar?.string).flatMap({ Double($0) }) else { throw FrailtyModelError("\(file): \(key) must be a number") }
            return v
        }
        var missing: [String] = []
        func concepts(_ names: [String]) -> Set<UInt64> {
            var out = Set<UInt64>()
            for n in names {
                if let list = library[n] { out.formUnion(list.concepts) } else { missing.append(n) }
            }
            return out
        }
        var deficits: [Deficit] = []
        for (k, v) in root["deficits"]?.mapping ?? [:] {
            guard let name = k.scalar?.string, let m = v.mapping, let lists = m["clusters"]?.sequence?.compactMap({ $0.scalar?.string }), !lists.isEmpty else {
                throw FrailtyModelError("\(file): each deficit needs a label and clusters")
            }
            deficits.append(Deficit(name: name, label: m["label"]?.scalar?.string ?? name, concepts: concepts(lists)))
        }
        let poly = root["polypharmacy"]?.mapping
        let categories = root["categories"]?.mapping
        let recorded = root["recorded"]?.mapping
        func recordedList(_ key: String) -> Set<UInt64> {
            guard let name = recorded?[key]?.scalar?.string else { return [] }
            guard let list = library[name] else { return [] }  // optional: empty until imported (EFI2_COD)
            return list.concepts
        }
        let deficitCount = Int(try number(root, "deficit_count"))
        guard deficitCount > 0, deficits.count + 1 <= deficitCount else { throw FrailtyModelError("\(file): deficit_count must cover every deficit") }
        guard let rounding = Rounding(rawValue: categories?["rounding"]?.scalar?.string ?? "exact") else {
            throw FrailtyModelError("\(file): categories.rounding must be exact or two-decimals")
        }
        return FrailtyModel(
            title: root["model"]?.scalar?.string ?? "eFI", minimumAge: Int(try number(root, "minimum_age")), deficitCount: deficitCount,
            deficits: deficits, polypharmacyLabel: poly?["label"]?.scalar?.string ?? "Polypharmacy",
            polypharmacyMedicines: Int(try number(poly, "distinct_medicines")), polypharmacyMonths: Int(try number(poly, "months")),
            mildAbove: try number(categories, "mild_above"), moderateAbove: try number(categories, "moderate_above"),
            severeAbove: try number(categories, "severe_above"), rounding: rounding, recordedScore: recordedList("score"),
            recordedCategories: [(.mild, recordedList("mild")), (.moderate, recordedList("moderate")), (.severe, recordedList("severe"))],
            recordedEFI2: recordedList("efi2"), missingLists: missing.sorted())
    }
}

/// A frailty model file that cannot be used, and why.
public struct FrailtyModelError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
