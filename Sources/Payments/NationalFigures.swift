import Foundation
import Yams

/// The national figures a year's QOF payments depend on: value of a point, average list size,
/// aspiration percentage and national prevalence per group. Data, versioned per year, each with its
/// source and whether it is verified.
public struct NationalFigures: Sendable {
    public struct Prevalence: Sendable, Hashable {
        public var register: String
        /// Percent of the whole list.
        public var percent: Double
        public init(register: String, percent: Double) {
            self.register = register
            self.percent = percent
        }
    }

    public var year: String
    public var pointValue: Double
    public var averageListSize: Double
    public var aspirationPercent: Double
    public var prevalence: [String: Prevalence]
    public var unweightedGroups: Set<String>
    /// Figures not yet confirmed from a primary source (for reports and the README).
    public var unverified: [String]
    /// Last year's points for income-protected indicators, per practice (empty when not supplied).
    public var incomeProtection = IncomeProtection()

    public init(year: String, pointValue: Double, averageListSize: Double, aspirationPercent: Double,
                prevalence: [String: Prevalence], unweightedGroups: Set<String>, unverified: [String] = []) {
        self.year = year
        self.pointValue = pointValue
        self.averageListSize = averageListSize
        self.aspirationPercent = aspirationPercent
        self.prevalence = prevalence
        self.unweightedGroups = unweightedGroups
        self.unverified = unverified
    }

    /// The figures for `year` (e.g. `qof-2025-26`): `<year>.yaml` from `directory` when it holds one, else
    /// the shipped file; `<year>-income-protection.csv` from `directory` when present. Absent figures and
    /// broken ones are different errors: see `loadIfPresent`.
    public static func load(year: String, directory: URL? = nil) throws -> NationalFigures {
        guard let figures = try loadIfPresent(year: year, directory: directory) else { throw PaymentError("no national figures for \(year)") }
        return figures
    }

    /// nil when there is no figures file for `year` (the ruleset is stored without pounds); throws, naming the
    /// file and line, when a file is there but cannot be read (a broken file must stop start-up, not quietly
    /// drop every practice's pounds).
    public static func loadIfPresent(year: String, directory: URL? = nil) throws -> NationalFigures? {
        let local = directory?.appending(path: "\(year).yaml")
        guard let url = local.flatMap({ FileManager.default.fileExists(atPath: $0.path) ? $0 : nil })
            ?? Bundle.module.url(forResource: year, withExtension: "yaml")
        else { return nil }
        let name = url.lastPathComponent
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw PaymentError("\(url.path): cannot be read (is it UTF-8 text?)") }
        let composed: Node?
        do { composed = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw PaymentError("\(name): not valid YAML (\(error))")
        }
        guard let root = composed?.mapping else { throw PaymentError("\(name) line 1: not a mapping of figures") }
        func line(_ node: Node?) -> String { node?.mark.map { " line \($0.line)" } ?? "" }
        var unverified: [String] = []
        func figure(_ key: String, _ field: String) throws -> Double {
            guard let m = root[key]?.mapping, let s = m[field]?.scalar?.string, let v = Double(s) else {
                throw PaymentError("\(name)\(line(root[key]?.mapping?[field] ?? root[key])): \(key).\(field) must be a number")
            }
            if m["verified"]?.bool == false { unverified.append(key) }
            return v
        }
        let pointValue = try figure("point_value", "pounds")
        let list = try figure("average_list_size", "patients")
        let aspiration = try figure("aspiration_percent", "percent")
        var prevalence: [String: Prevalence] = [:]
        if let p = root["prevalence"]?.mapping {
            if p["verified"]?.bool == false { unverified.append("prevalence") }
            for (k, v) in p["groups"]?.mapping ?? [:] {
                let percentText: String? = v.mapping?["percent"]?.scalar?.string
                guard let group = k.scalar?.string, let m = v.mapping, let register = m["register"]?.scalar?.string,
                    let percent = percentText.flatMap({ Double($0) }), percent > 0
                else { throw PaymentError("\(name)\(line(v)): prevalence group needs register and a positive percent") }
                prevalence[group] = Prevalence(register: register, percent: percent)
            }
        }
        let unweighted = Set((root["unweighted_groups"]?.sequence ?? []).compactMap { $0.scalar?.string })
        var figures = NationalFigures(
            year: root["year"]?.scalar?.string ?? year, pointValue: pointValue, averageListSize: list, aspirationPercent: aspiration,
            prevalence: prevalence, unweightedGroups: unweighted, unverified: unverified)
        figures.incomeProtection = try IncomeProtection.load(year: year, directory: directory)
        return figures
    }
}

/// Payment figures that cannot be worked out, with a reason.
public struct PaymentError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
