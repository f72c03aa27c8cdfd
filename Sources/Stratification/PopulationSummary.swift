import Clinical
import Clusters
import Crypto
import Foundation
import QRISK3

/// A practice's population health on a date, as counts: each registered patient's segment, frailty (65+,
/// recorded or estimated), QRISK3 band (25–84 without CVD), Core20 and each PLUS group and clinical area, each
/// counted over everyone and by IMD quintile, ethnic group, sex and age band. What the pipeline stores and
/// every page and command reads; patients are never named here.
public struct PopulationSummary: Sendable {
    public struct Count: Sendable, Hashable {
        public var measure: String
        public var category: String
        public var dimension: String
        public var group: String
        public var value: Int
        public init(measure: String, category: String, dimension: String, group: String, value: Int) {
            self.measure = measure
            self.category = category
            self.dimension = dimension
            self.group = group
            self.value = value
        }
    }

    public var listSize: Int
    public var counts: [Count]

    /// The age bands breakdowns use.
    public static func ageBand(_ age: Int) -> String {
        switch age {
        case ..<18: return "0–17"
        case 18..<40: return "18–39"
        case 40..<65: return "40–64"
        case 65..<80: return "65–79"
        default: return "80+"
        }
    }

    /// QRISK3 bands: under 10 %, 10 to under 20 %, 20 % and over.
    public static func band(_ score: Double) -> String { score < 10 ? "under 10%" : score < 20 ? "10–20%" : "20% or more" }
}

/// Everything a summary needs, made once per practice population.
public struct PopulationStratifier: Sendable {
    public let segmentation: SegmentationModel
    public let frailty: FrailtyModel
    public let qriskInputs: QRISK3InputModel
    public let qrisk: QRISK3
    public let ethnicGroups: EthnicGroups
    /// A fingerprint of the three model files, stored with each summary (a changed model means a new summary).
    public let modelsSHA256: String

    public init(library: ClusterLibrary, ethnicGroups: EthnicGroups) throws {
        segmentation = try SegmentationModel.bundled(library: library)
        frailty = try FrailtyModel.bundled(library: library)
        qriskInputs = try QRISK3InputModel.bundled(library: library)
        qrisk = try QRISK3.bundled()
        self.ethnicGroups = ethnicGroups
        var text = ""
        for name in ["segments", "frailty-efi", "qrisk3-inputs"] {
            if let url = Bundle.module.url(forResource: name, withExtension: "yaml") { text += (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        }
        text += qrisk.name
        modelsSHA256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The summary of the patients registered and alive on `day`; `decile` gives an area's IMD decile.
    public func summarise(_ population: Population, on day: Day, decile: (String) -> Int?) -> PopulationSummary {
        let assessor = FrailtyAssessor(model: frailty, population: population)
        let segmenter = Segmenter(model: segmentation, population: population, frailty: assessor, ethnicGroups: ethnicGroups, decile: decile)
        let reader = QRISK3Reader(inputs: qriskInputs, model: qrisk, population: population, ethnicGroups: ethnicGroups)
        let deciles = population.lsoaCodes.map(decile)
        var tally: [String: Int] = [:]
        var listSize = 0
        for p in population.patientIDs.indices where population.isRegisteredAndAlive(p, on: day) {
            listSize += 1
            let area = population.lsoa[p]
            let quintile = (area >= 0 ? deciles[Int(area)] : nil).map { String(($0 + 1) / 2) } ?? "unknown"
            let e = population.ethnicity[p]
            let ethnic = e >= 0 ? ethnicGroups[population.codes[e]] ?? "not recorded" : "not recorded"
            let groups = [("all", ""), ("imd_quintile", quintile), ("ethnic_group", ethnic), ("sex", population.sexes[p].letter),
                          ("age_band", PopulationSummary.ageBand(population.birthDates[p].age(on: day)))]
            func count(_ measure: String, _ category: String) {
                for (d, g) in groups { tally["\(measure)\u{1}\(category)\u{1}\(d)\u{1}\(g)", default: 0] += 1 }
            }
            let s = segmenter.assign(p, on: day)
            count("segment", segmentation.segments[s.segment].id)
            if let f = assessor.assess(p, on: day) { count("frailty", "\(f.source.rawValue) \(f.category.rawValue)") }
            if let r = reader.assess(p, on: day), let score = r.score { count("qrisk3", PopulationSummary.band(score)) }
            count("core20", s.core20.map { $0 ? "yes" : "no" } ?? "unknown")
            for g in s.plus { count("plus", g) }
            for a in s.five { count("five", a) }
        }
        let counts = tally.map { key, value -> PopulationSummary.Count in
            let parts = key.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
            return PopulationSummary.Count(measure: parts[0], category: parts[1], dimension: parts[2], group: parts[3], value: value)
        }.sorted { ($0.measure, $0.category, $0.dimension, $0.group) < ($1.measure, $1.category, $1.dimension, $1.group) }
        return PopulationSummary(listSize: listSize, counts: counts)
    }
}
