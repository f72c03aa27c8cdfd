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

    /// Each counted patient's segment, frailty and QRISK3 (when asked for): what the worklists order by and
    /// `population_patient` keeps, like patient outcomes.
    public struct PatientLevel: Sendable {
        /// The segmentation's segment ids in order (`segment` holds 1-based places in it).
        public var segmentIDs: [String]
        /// Rows of the population (its roster) of the patients counted.
        public var rows: [Int32] = []
        public var segment: [Int32] = []
        /// 0 not assessed; 1–4 recorded fit, mild, moderate, severe; 5–8 the same estimated.
        public var frailty: [Int32] = []
        /// eFI score (0 to 1); -1 none.
        public var frailtyScore: [Double] = []
        /// Computed QRISK3 in percent; -1 not computed.
        public var qrisk3: [Double] = []
    }

    public var listSize: Int
    /// Only cells holding someone, by measure and category, dimension, then group as first met (readers order them).
    public var counts: [Count]
    public var patients: PatientLevel?

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

    /// A patient's groups in the breakdowns (IMD quintile, ethnic group, sex, age band), named as the summary names them.
    public static func groups(_ population: Population, _ p: Int, on day: Day, decile: (String) -> Int?, ethnicGroups: EthnicGroups)
        -> (imdQuintile: String, ethnicGroup: String, sex: String, ageBand: String)
    {
        let area = population.lsoa[p], e = population.ethnicity[p]
        let quintile = area >= 0 ? decile(population.lsoaCodes[Int(area)]).map { String(($0 + 1) / 2) } ?? "unknown" : "unknown"
        let ethnic = e >= 0 ? ethnicGroups[population.codes[e]] ?? "not recorded" : "not recorded"
        return (quintile, ethnic, population.sexes[p].letter, ageBand(min(130, max(0, population.birthDates[p].age(on: day)))))
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
    /// The cohorts to act on and the case-finding rules, read with the same code lists.
    public let cohorts: [Cohort]
    /// A fingerprint of the three model files and the code lists, stored with each summary (a changed model or
    /// code list means a new summary).
    public let modelsSHA256: String
    /// What each concept means to each model, worked out once (a practice then looks each of its codes up once).
    let frailtyIndex: FrailtyAssessor.CodeIndex
    let segmentIndex: Segmenter.CodeIndex
    let qriskIndex: QRISK3Reader.CodeIndex
    /// The cohorts compiled for counting (every summary counts each cohort's members).
    let counting: CohortCounting

    /// `cohortFiles`: a site's own cohort and case-finding files (the same vocabulary as the shipped ones), added
    /// after them; an id already taken is refused, naming the file.
    public init(library: ClusterLibrary, ethnicGroups: EthnicGroups, cohortFiles: [URL] = []) throws {
        segmentation = try SegmentationModel.bundled(library: library)
        frailty = try FrailtyModel.bundled(library: library)
        qriskInputs = try QRISK3InputModel.bundled(library: library)
        qrisk = try QRISK3.bundled()
        var cohorts = try CohortFile.bundled(library: library)
        for file in cohortFiles {
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch { throw FrailtyModelError("\(file.path): cannot be read") }
            for c in try CohortFile.parse(text, file: file.lastPathComponent, library: library) {
                guard !cohorts.contains(where: { $0.id == c.id }) else { throw FrailtyModelError("\(file.lastPathComponent): cohort \(c.id) is already defined") }
                cohorts.append(c)
            }
        }
        self.cohorts = cohorts.sorted { $0.id < $1.id }
        counting = CohortCounting(self.cohorts, segments: segmentation.segments.map(\.id))
        self.ethnicGroups = ethnicGroups
        frailtyIndex = FrailtyAssessor.CodeIndex(model: frailty)
        segmentIndex = Segmenter.CodeIndex(model: segmentation)
        qriskIndex = QRISK3Reader.CodeIndex(inputs: qriskInputs)
        var text = ""
        for name in ["segments", "frailty-efi", "qrisk3-inputs"] {
            if let url = Bundle.module.url(forResource: name, withExtension: "yaml") { text += (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        }
        text += qrisk.name
        // The code lists the models were read with (a site's imported release changes the counts).
        for name in library.lists.keys.sorted() { text += "\n\(name)#\(library.lists[name]!.fingerprint)" }
        modelsSHA256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The models with the shipped code lists, made once per process: the pipeline and the web view share them.
    public static let shipped: Result<PopulationStratifier, any Error> = Result {
        try PopulationStratifier(library: try ClusterLibrary.bundled(), ethnicGroups: try EthnicGroups.bundled())
    }

    /// The frailty, segment and QRISK3 assessors of one practice's population, sharing the code indexes.
    func assessors(_ population: Population, decile: (String) -> Int?) -> (FrailtyAssessor, Segmenter, QRISK3Reader) {
        let assessor = FrailtyAssessor(model: frailty, population: population, index: frailtyIndex)
        let segmenter = Segmenter(model: segmentation, population: population, frailty: assessor, ethnicGroups: ethnicGroups, decile: decile,
                                  index: segmentIndex)
        return (assessor, segmenter, QRISK3Reader(inputs: qriskInputs, model: qrisk, population: population, ethnicGroups: ethnicGroups, index: qriskIndex))
    }

    /// The summary of the patients registered and alive on `day`; `decile` gives an area's IMD decile.
    /// `patientLevel`: also each patient's segment, frailty and score.
    public func summarise(_ population: Population, on day: Day, decile: (String) -> Int?, patientLevel: Bool = false) -> PopulationSummary {
        var (assessor, segmenter, reader) = assessors(population, decile: decile)
        let frame = DateFrame(day)
        (assessor.frame, segmenter.frame, reader.frame) = (frame, frame, frame)
        // Categories and groups are numbered once; each patient adds to integer-keyed cells.
        var categories: [(String, String)] = [], categoryIndex: [String: Int] = [:]
        func category(_ measure: String, _ name: String) -> Int {
            let key = measure + "\u{1}" + name
            if let i = categoryIndex[key] { return i }
            categories.append((measure, name))
            categoryIndex[key] = categories.count - 1
            return categories.count - 1
        }
        let segmentCategories = segmentation.segments.map { category("segment", $0.id) }
        // [recorded, estimated][fit … severe]
        let frailtyCategories = [FrailtyAssessment.Source.recorded, .estimated].map { source in
            FrailtyCategory.allCases.map { category("frailty", "\(source.rawValue) \($0.rawValue)") }
        }
        let qriskCategories = ["under 10%", "10–20%", "20% or more"].map { ($0, category("qrisk3", $0)) }
        let core20 = (yes: category("core20", "yes"), no: category("core20", "no"), unknown: category("core20", "unknown"))
        let plusCategories = segmentation.plus.map { category("plus", $0.name) }
        let fiveCategories = segmentation.five.map { category("five", $0.name) }
        let cohortCategories = cohorts.map { category("cohort", $0.id) }
        let cohortPractice = CohortCounting.Practice(counting, population: population, frame: frame)
        let dimensions = ["all", "imd_quintile", "ethnic_group", "sex", "age_band"]
        var groups: [[String]] = Array(repeating: [], count: dimensions.count), groupIndex: [[String: Int]] = Array(repeating: [:], count: dimensions.count)
        func group(_ d: Int, _ name: String) -> Int {
            if let i = groupIndex[d][name] { return i }
            groups[d].append(name)
            groupIndex[d][name] = groups[d].count - 1
            return groups[d].count - 1
        }
        let all = group(0, "")
        let quintileOfArea = population.lsoaCodes.map { code in group(1, decile(code).map { String(($0 + 1) / 2) } ?? "unknown") }
        let unknownQuintile = group(1, "unknown")
        let ethnicOfCode = population.codes.concepts.map { c in group(2, ethnicGroups[c] ?? "not recorded") }
        let notRecorded = group(2, "not recorded")
        // By the sex's raw value (a letter): no array is made per patient.
        var sexGroupOfRaw = [Int](repeating: 0, count: 256)
        for sex in Sex.allCases { sexGroupOfRaw[Int(sex.rawValue)] = group(3, sex.letter) }
        let bandGroups = (0...130).map { group(4, PopulationSummary.ageBand($0)) }
        // Every category is known now: cells are a flat array (category, dimension, group).
        let width = max(1, groups.map(\.count).max() ?? 1)
        var cells = [Int](repeating: 0, count: categories.count * dimensions.count * width)
        var listSize = 0
        var patients = patientLevel ? PopulationSummary.PatientLevel(segmentIDs: segmentation.segments.map(\.id)) : nil
        for p in population.patientIDs.indices where population.isRegisteredAndAlive(p, on: day) {
            listSize += 1
            let area = population.lsoa[p], e = population.ethnicity[p]
            let age = min(130, max(0, frame.age(population.birthDates[p], on: day)))
            let g = (all, area >= 0 ? quintileOfArea[Int(area)] : unknownQuintile, e >= 0 ? ethnicOfCode[Int(e)] : notRecorded,
                     sexGroupOfRaw[Int(population.sexes[p].rawValue)], bandGroups[age])
            func count(_ c: Int) {
                let base = c * dimensions.count * width
                cells[base + g.0] += 1
                cells[base + width + g.1] += 1
                cells[base + 2 * width + g.2] += 1
                cells[base + 3 * width + g.3] += 1
                cells[base + 4 * width + g.4] += 1
            }
            let f = assessor.assess(p, on: day, labels: false)
            let s = segmenter.place(p, on: day, frailty: .some(f?.category))
            count(segmentCategories[s.segment])
            if let f { count(frailtyCategories[f.source == .recorded ? 0 : 1][f.category.ordinal]) }
            let risk = reader.assess(p, on: day, words: false)?.score
            if let score = risk { count(score < 10 ? qriskCategories[0].1 : score < 20 ? qriskCategories[1].1 : qriskCategories[2].1) }
            if patients != nil {
                patients!.rows.append(Int32(p))
                patients!.segment.append(Int32(s.segment + 1))
                patients!.frailty.append(f.map { Int32(($0.source == .recorded ? 1 : 5) + $0.category.ordinal) } ?? 0)
                patients!.frailtyScore.append(f?.score ?? -1)
                patients!.qrisk3.append(risk ?? -1)
            }
            count(s.core20.map { $0 ? core20.yes : core20.no } ?? core20.unknown)
            for (i, c) in plusCategories.enumerated() where s.plus & (1 << UInt64(i)) != 0 { count(c) }
            for (i, c) in fiveCategories.enumerated() where s.five & (1 << UInt64(i)) != 0 { count(c) }
            let known = CohortCounting.Known(segment: s.segment, frailty: f?.category, qrisk3: risk, age: age,
                                             areaKnown: g.1 != unknownQuintile, ethnicityKnown: g.2 != notRecorded)
            counting.memberships(p, on: day, known: known, practice: cohortPractice, population: population) { count(cohortCategories[$0]) }
        }
        var counts: [PopulationSummary.Count] = []
        for c in categories.indices {
            for d in dimensions.indices {
                for gi in groups[d].indices where cells[(c * dimensions.count + d) * width + gi] > 0 {
                    counts.append(PopulationSummary.Count(measure: categories[c].0, category: categories[c].1, dimension: dimensions[d], group: groups[d][gi],
                                                          value: cells[(c * dimensions.count + d) * width + gi]))
                }
            }
        }
        return PopulationSummary(listSize: listSize, counts: counts, patients: patients)
    }
}
