import Clinical
import Clusters
import Foundation
import Yams

/// Vaccinations given by the practice per programme per month, the basis of its CQRS item-of-service
/// claims, priced with the fee per dose from versioned reference data. A programme with a season (flu)
/// prices only the doses its programme allows: children and pregnant women from the season's first day,
/// other adults from the adult start; other doses are listed as held, at £0, with the reason.
public struct ItemOfService: Sendable {
    public struct Programme: Sendable {
        public var id: String
        public var describe: String
        public var fee: Double
        public var verified: Bool
        public var concepts: Set<UInt64>
        public var season: Season?
    }

    /// When a seasonal programme's doses can be claimed.
    public struct Season: Sendable {
        /// First day for children (under `adultAge` on the day of the dose) and pregnant women.
        public var childrenFrom: Day
        /// First day for everyone else.
        public var adultsFrom: Day
        public var to: Day
        public var adultAge: Int
        /// Pregnancy codes: a dose within 9 months after one (no end-of-pregnancy code between) is a pregnant woman's.
        public var pregnancy: Set<UInt64>
        public var pregnancyEnded: Set<UInt64>
    }

    public struct Line: Sendable, Codable, Hashable {
        public var programme: String
        public var month: String
        public var doses: Int
        public var pounds: Double
        /// Why these doses are not priced (nil for claimable doses).
        public var held: String?
        public init(programme: String, month: String, doses: Int, pounds: Double, held: String? = nil) {
            self.programme = programme
            self.month = month
            self.doses = doses
            self.pounds = pounds
            self.held = held
        }
    }

    public var programmes: [Programme]

    /// The fees and code lists shipped for `year` (e.g. `2025-26`).
    public static func load(year: String, library: ClusterLibrary) throws -> ItemOfService {
        guard let url = Bundle.module.url(forResource: "item-of-service-\(year)", withExtension: "yaml"),
            let root = try Yams.compose(yaml: String(contentsOf: url, encoding: .utf8))?.mapping?["programmes"]?.mapping
        else { throw PaymentError("no item-of-service fees for \(year)") }
        func concepts(_ node: Node?) -> Set<UInt64> {
            (node?.sequence ?? []).compactMap { $0.scalar?.string }.reduce(into: Set<UInt64>()) { $0.formUnion(library[$1]?.concepts ?? []) }
        }
        var programmes: [Programme] = []
        for (k, v) in root {
            let feeText: String? = v.mapping?["fee"]?.scalar?.string
            guard let id = k.scalar?.string, let m = v.mapping, let fee = feeText.flatMap({ Double($0) }) else { continue }
            var season: Season?
            if let s = m["season"]?.mapping {
                func day(_ key: String) throws -> Day {
                    guard let text = s[key]?.scalar?.string, let d = Day(iso: text) else {
                        throw PaymentError("item-of-service \(year): \(id) season needs \(key) as YYYY-MM-DD")
                    }
                    return d
                }
                season = Season(
                    childrenFrom: try day("children_from"), adultsFrom: try day("adults_from"), to: try day("to"),
                    adultAge: s["adult_age"]?.int ?? 18, pregnancy: concepts(s["pregnancy"]), pregnancyEnded: concepts(s["pregnancy_ended"]))
            }
            programmes.append(Programme(id: id, describe: m["describe"]?.scalar?.string ?? id, fee: fee, verified: m["verified"]?.bool ?? true,
                                        concepts: concepts(m["clusters"]), season: season))
        }
        return ItemOfService(programmes: programmes.sorted { $0.id < $1.id })
    }

    /// Doses given between `from` and `to` to patients registered on the day, by programme and month; doses
    /// a programme's season does not allow are counted on held lines.
    public func count(_ population: Population, from: Day, to: Day) -> [Line] {
        struct Key: Hashable { var programme: String, month: String, held: String? }
        var counts: [Key: Int] = [:]
        let byCode: [Int32: [Int]] = {
            var out: [Int32: [Int]] = [:]
            for c in 0..<population.codes.count {
                let concept = population.codes[Int32(c)]
                let ids = programmes.indices.filter { programmes[$0].concepts.contains(concept) }
                if !ids.isEmpty { out[Int32(c)] = ids }
            }
            return out
        }()
        for p in 0..<population.patientCount {
            for e in population.eventRange(p) {
                let event = population.events[e]
                guard event.date >= from, event.date <= to, let ids = byCode[event.code] else { continue }
                guard population.registrationRange(p).contains(where: { population.registrations[$0].contains(event.date) }) else { continue }
                let c = event.date.components
                let month = String(format: "%04d-%02d", c.year, c.month)
                for i in ids {
                    let held = programmes[i].season.flatMap { heldReason($0, population, patient: p, day: event.date) }
                    counts[Key(programme: programmes[i].id, month: month, held: held), default: 0] += 1
                }
            }
        }
        let fees = Dictionary(uniqueKeysWithValues: programmes.map { ($0.id, $0.fee) })
        return counts.keys.sorted { ($0.programme, $0.month, $0.held ?? "") < ($1.programme, $1.month, $1.held ?? "") }.map { k in
            let doses = counts[k]!
            return Line(programme: k.programme, month: k.month, doses: doses, pounds: k.held == nil ? Double(doses) * fees[k.programme]! : 0, held: k.held)
        }
    }

    /// Why a dose on `day` cannot be claimed in `season`, or nil when it can.
    func heldReason(_ season: Season, _ population: Population, patient p: Int, day: Day) -> String? {
        if day < season.childrenFrom || day > season.to { return "outside the season (\(season.childrenFrom.description) to \(season.to.description))" }
        if day >= season.adultsFrom || population.birthDates[p].age(on: day) < season.adultAge { return nil }
        if isPregnant(season, population, patient: p, on: day) { return nil }
        return "an adult's dose before the adult programme started on \(season.adultsFrom.description)"
    }

    /// A pregnancy code in the 9 months up to `day` with no end-of-pregnancy code on or after it (PRIMIS's pregnancy list
    /// includes the delivery codes, so a delivery as the latest pregnancy code ends the pregnancy).
    func isPregnant(_ season: Season, _ population: Population, patient p: Int, on day: Day) -> Bool {
        let since = day.adding(months: -9)
        var latestPregnancy: Day?
        var latestEnd: Day?
        for e in population.eventRange(p) {
            let event = population.events[e]
            guard event.date <= day else { continue }
            let concept = population.codes[event.code]
            if event.date >= since, season.pregnancy.contains(concept) { latestPregnancy = max(latestPregnancy ?? event.date, event.date) }
            if season.pregnancyEnded.contains(concept) { latestEnd = max(latestEnd ?? event.date, event.date) }
        }
        guard let pregnancy = latestPregnancy else { return false }
        return latestEnd.map { $0 < pregnancy } ?? true  // PRIMIS: a delivery code on or after the latest pregnancy code ends it
    }
}
