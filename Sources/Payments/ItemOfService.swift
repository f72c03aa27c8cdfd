import Clinical
import Clusters
import Foundation
import Yams

/// Vaccinations given by the practice per programme per month, the basis of its CQRS item-of-service
/// claims, priced with the fee per dose from versioned reference data.
public struct ItemOfService: Sendable {
    public struct Programme: Sendable {
        public var id: String
        public var describe: String
        public var fee: Double
        public var verified: Bool
        public var concepts: Set<UInt64>
    }

    public struct Line: Sendable, Codable, Hashable {
        public var programme: String
        public var month: String
        public var doses: Int
        public var pounds: Double
        public init(programme: String, month: String, doses: Int, pounds: Double) {
            self.programme = programme
            self.month = month
            self.doses = doses
            self.pounds = pounds
        }
    }

    public var programmes: [Programme]

    /// The fees and code lists shipped for `year` (e.g. `2025-26`).
    public static func load(year: String, library: ClusterLibrary) throws -> ItemOfService {
        guard let url = Bundle.module.url(forResource: "item-of-service-\(year)", withExtension: "yaml"),
            let root = try Yams.compose(yaml: String(contentsOf: url, encoding: .utf8))?.mapping?["programmes"]?.mapping
        else { throw PaymentError("no item-of-service fees for \(year)") }
        var programmes: [Programme] = []
        for (k, v) in root {
            let feeText: String? = v.mapping?["fee"]?.scalar?.string
            guard let id = k.scalar?.string, let m = v.mapping, let fee = feeText.flatMap({ Double($0) }) else { continue }
            let clusters = (m["clusters"]?.sequence ?? []).compactMap { $0.scalar?.string }
            let concepts = clusters.reduce(into: Set<UInt64>()) { $0.formUnion(library[$1]?.concepts ?? []) }
            programmes.append(Programme(id: id, describe: m["describe"]?.scalar?.string ?? id, fee: fee, verified: m["verified"]?.bool ?? true,
                                        concepts: concepts))
        }
        return ItemOfService(programmes: programmes.sorted { $0.id < $1.id })
    }

    /// Doses given between `from` and `to` to patients registered on the day, by programme and month.
    public func count(_ population: Population, from: Day, to: Day) -> [Line] {
        var counts: [String: [String: Int]] = [:]
        let byCode: [Int32: [String]] = {
            var out: [Int32: [String]] = [:]
            for c in 0..<population.codes.count {
                let concept = population.codes[Int32(c)]
                let ids = programmes.filter { $0.concepts.contains(concept) }.map(\.id)
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
                for id in ids { counts[id, default: [:]][month, default: 0] += 1 }
            }
        }
        let fees = Dictionary(uniqueKeysWithValues: programmes.map { ($0.id, $0.fee) })
        return counts.keys.sorted().flatMap { id in
            counts[id]!.keys.sorted().map { m in Line(programme: id, month: m, doses: counts[id]![m]!, pounds: Double(counts[id]![m]!) * fees[id]!) }
        }
    }
}
