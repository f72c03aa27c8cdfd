import Foundation
import Yams

/// The national figures the Network Contract DES Investment and Impact Fund pays PCNs with: the value of
/// a point, the national mean PCN list size (the list-size adjustment) and each indicator's national
/// prevalence (the prevalence adjustment). Read from `<ruleset>-iif.yaml`, so a site replaces them without a
/// build; a figure marked `verified: false` is named in `unverified` and flagged wherever pounds are shown.
public struct IIFNationalFigures: Sendable, Hashable {
    public var year: String
    public var pointValue: Double
    public var meanPCNListSize: Double
    /// National denominator as a percentage of the national list, by indicator.
    public var prevalence: [String: Double]
    public var unverified: [String]

    public init(year: String, pointValue: Double, meanPCNListSize: Double, prevalence: [String: Double], unverified: [String] = []) {
        self.year = year
        self.pointValue = pointValue
        self.meanPCNListSize = meanPCNListSize
        self.prevalence = prevalence
        self.unverified = unverified
    }

    /// `<year>-iif.yaml` from `directory` when it holds one, else the shipped file; nil when neither exists.
    /// A file that is there but broken throws, naming it (and the line).
    public static func loadIfPresent(year: String, directory: URL? = nil) throws -> IIFNationalFigures? {
        let local = directory?.appending(path: "\(year)-iif.yaml")
        guard let url = local.flatMap({ FileManager.default.fileExists(atPath: $0.path) ? $0 : nil })
            ?? Bundle.module.url(forResource: "\(year)-iif", withExtension: "yaml")
        else { return nil }
        let name = url.lastPathComponent
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw PaymentError("\(url.path): cannot be read (is it UTF-8 text?)") }
        let composed: Node?
        do { composed = try Yams.compose(yaml: text) } catch { throw PaymentError("\(name): not valid YAML (\(error))") }
        guard let root = composed?.mapping else { throw PaymentError("\(name) line 1: not a mapping of figures") }
        var unverified: [String] = []
        func figure(_ key: String, _ field: String) throws -> Double {
            guard let m = root[key]?.mapping, let v = (m[field]?.scalar?.string).flatMap { Double($0) }, v > 0 else {
                let line = (root[key]?.mapping?[field] ?? root[key])?.mark.map { " line \($0.line)" } ?? ""
                throw PaymentError("\(name)\(line): \(key).\(field) must be a positive number")
            }
            if m["verified"]?.bool != true { unverified.append(key) }
            return v
        }
        let point = try figure("point_value", "pounds"), list = try figure("mean_pcn_list_size", "patients")
        var prevalence: [String: Double] = [:]
        if let p = root["prevalence"]?.mapping {
            if p["verified"]?.bool != true { unverified.append("prevalence") }
            for (k, v) in p["indicators"]?.mapping ?? [:] {
                guard let id = k.scalar?.string, let percent = (v.mapping?["percent"]?.scalar?.string).flatMap { Double($0) }, percent > 0 else {
                    throw PaymentError("\(name)\(v.mark.map { " line \($0.line)" } ?? ""): each indicator's prevalence needs a positive percent")
                }
                prevalence[id] = percent
            }
        }
        return IIFNationalFigures(year: root["year"]?.scalar?.string ?? year, pointValue: point, meanPCNListSize: list,
                                  prevalence: prevalence, unverified: unverified)
    }
}

/// The IIF payment arithmetic for one PCN (facts §1.3): numerators and denominators are summed over the
/// member practices first; achievement points on the sliding scale between the lower and upper thresholds
/// (nothing at or below the lower); pounds = points × value of a point × list-size adjustment (PCN list ÷
/// national mean PCN list) × prevalence adjustment (PCN denominator ÷ PCN list, over the national prevalence).
public enum IIFPayment {
    /// One indicator of the PCN, its counts already summed over the member practices.
    public struct Indicator: Sendable, Hashable {
        public var id: String
        public var denominator: Int
        public var numerator: Int
        public var maxPoints: Double
        public var lowerThreshold: Double
        public var upperThreshold: Double
        /// False when the figure rests on missing code lists: no points and no pounds are worked out.
        public var computable: Bool

        public init(id: String, denominator: Int, numerator: Int, maxPoints: Double, lowerThreshold: Double, upperThreshold: Double,
                    computable: Bool = true) {
            self.id = id
            self.denominator = denominator
            self.numerator = numerator
            self.maxPoints = maxPoints
            self.lowerThreshold = lowerThreshold
            self.upperThreshold = upperThreshold
            self.computable = computable
        }
    }

    /// What the PCN earns on one indicator.
    public struct Result: Sendable, Hashable, Codable {
        public var id: String
        public var denominator: Int
        public var numerator: Int
        /// Percent; nil when the denominator is 0 or the figure cannot be computed.
        public var achievement: Double?
        public var points: Double
        public var maxPoints: Double
        public var listSizeAdjustment: Double?
        public var prevalenceAdjustment: Double?
        /// nil without national figures (or a national prevalence for the indicator), or when not computable.
        public var pounds: Double?
        public var computable: Bool
    }

    /// Points on the sliding scale: none at or below the lower threshold, all at or above the upper.
    public static func points(achievement: Double?, max: Double, lower: Double, upper: Double) -> Double {
        guard let a = achievement, a > lower else { return 0 }
        guard upper > lower, a < upper else { return max }
        return max * (a - lower) / (upper - lower)
    }

    /// The PCN's results, indicator by indicator, for a PCN list of `listSize` patients.
    public static func pcn(_ indicators: [Indicator], listSize: Int, figures: IIFNationalFigures?) -> [Result] {
        indicators.map { i in
            let achievement = i.computable && i.denominator > 0 ? 100 * Double(i.numerator) / Double(i.denominator) : nil
            let points = i.computable ? Self.points(achievement: achievement, max: i.maxPoints, lower: i.lowerThreshold, upper: i.upperThreshold) : 0
            var result = Result(id: i.id, denominator: i.denominator, numerator: i.numerator, achievement: achievement, points: points,
                                maxPoints: i.maxPoints, listSizeAdjustment: nil, prevalenceAdjustment: nil, pounds: nil, computable: i.computable)
            guard let figures, listSize > 0 else { return result }
            let listAdjustment = Double(listSize) / figures.meanPCNListSize
            result.listSizeAdjustment = listAdjustment
            guard let national = figures.prevalence[i.id] else { return result }
            let prevalenceAdjustment = (100 * Double(i.denominator) / Double(listSize)) / national
            result.prevalenceAdjustment = prevalenceAdjustment
            if i.computable { result.pounds = points * figures.pointValue * listAdjustment * prevalenceAdjustment }
            return result
        }
    }
}
