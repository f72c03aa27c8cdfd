import Clinical
import Foundation
import Hummingbird
import QRISK3
import Postgres
import Storage
import Stratification

/// The population health page of a practice or a PCN: segment sizes (and by IMD quintile, ethnic group, sex and
/// age band), frailty recorded and estimated, QRISK3 bands, Core20PLUS5, all from the summaries stored with
/// each practice's latest extract. Beyond the practice the same suppression as the inequalities page applies.
extension WebApp {
    func populationPage(_ viewer: Viewer, practice: String?, pcn: String?) async throws -> Response {
        typealias Summary = (PopulationStore.Run, [PopulationSummary.Count])
        // The subject's summaries, and the PCN's (for a practice: its PCN's members, the average it is set against).
        let loaded = try await database.run { conn -> (String, [Summary], [Summary]) in
            if let practice {
                let organisation = try PracticeHistory.organisation(practice, on: todayInEngland(), in: conn)
                let network = try organisation?.pcn.map { try Self.populationSummaries(pcn: $0, in: conn) } ?? []
                return (organisation?.name ?? practice, [try PopulationStore.latest(practice: practice, in: conn)].compactMap { $0 }, network)
            }
            let code = pcn ?? ""
            let all = try Self.populationSummaries(pcn: code, in: conn)
            return (try PCNRuns.name(of: code, in: conn), all, all)
        }
        let (name, summaries, network) = loaded
        let stratifier = await stratifier()
        let model = stratifier?.segmentation
        let gaps = stratifier?.cohorts.filter { $0.group == "missing from the data" } ?? []
        let subject = practice.map { "\(name) (\($0))" } ?? "\(name) (\(pcn ?? ""))"
        let suppressed = pcn != nil || practice.map { viewer.seesBeyondPractice($0) } ?? true
        var context: [String: Any] = [
            "title": "Population health, \(subject)", "subject": subject, "suppressed": suppressed, "disclaimer": QRISK3.disclaimer,
            "crumbs": practice.map { Format.crumbs(("\(name) (\($0))", "/practice/\($0)")) } ?? Format.crumbs(("\(name)", "/pcn/\(pcn ?? "")")),
        ]
        guard !summaries.isEmpty else {
            context["none"] = true
            return page("population", context, viewer: viewer)
        }
        var totals: [String: Int] = [:]
        for (_, counts) in summaries { for c in counts { totals["\(c.measure)|\(c.category)|\(c.dimension)|\(c.group)", default: 0] += c.value } }
        let list = summaries.reduce(0) { $0 + $1.0.listSize }
        func shown(_ n: Int) -> String { suppressed ? Suppression.shown(n).map(String.init) ?? "*" : String(n) }
        func share(_ n: Int, of d: Int) -> String {
            suppressed ? Format.percent(Suppression.percent(n, of: d)) : Format.percent(d > 0 ? 100 * Double(n) / Double(d) : nil)
        }
        func all(_ measure: String, _ category: String) -> Int { totals["\(measure)|\(category)|all|"] ?? 0 }
        context["listSize"] = shown(list)
        context["asOf"] = Set(summaries.map(\.0.asOf.description)).sorted().joined(separator: ", ")
        let segments = model?.segments.map { (id: $0.id, label: $0.label) } ?? []
        context["segments"] = segments.map { s -> [String: String] in
            ["label": s.label, "count": shown(all("segment", s.id)), "share": share(all("segment", s.id), of: list)]
        }
        if let missing = model?.missingLists, !missing.isEmpty { context["missingLists"] = missing.joined(separator: ", ") }
        // Segments by each breakdown: a row per group, a column per segment.
        context["segmentLabels"] = segments.map { ["label": $0.label] }
        context["breakdowns"] = [("imd_quintile", "IMD quintile (1 = most deprived)"), ("ethnic_group", "Ethnic group"), ("sex", "Sex"), ("age_band", "Age band")]
            .map { dimension, title -> [String: Any] in
                let groups = Set(totals.keys.compactMap { k -> String? in
                    let p = k.split(separator: "|", omittingEmptySubsequences: false)
                    return p[0] == "segment" && p[2] == dimension ? String(p[3]) : nil
                }).sorted()
                return ["title": title, "rows": groups.map { g -> [String: Any] in
                    ["group": g, "cells": segments.map { s in ["value": shown(totals["segment|\(s.id)|\(dimension)|\(g)"] ?? 0)] }]
                }]
            }
        let frailty = FrailtyCategory.allCases.reversed().map { c -> [String: String] in
            ["category": c.rawValue, "recorded": shown(all("frailty", "recorded \(c.rawValue)")), "estimated": shown(all("frailty", "estimated \(c.rawValue)"))]
        }
        context["frailty"] = frailty
        context["qrisk"] = ["20% or more", "10–20%", "under 10%"].map { ["band": $0, "count": shown(all("qrisk3", $0))] }
        context["core20"] = ["yes", "no", "unknown"].map { ["label": $0 == "yes" ? "Most deprived 20 % (IMD deciles 1–2)" : $0 == "no" ? "Other areas" : "Area not known",
                                                             "count": shown(all("core20", $0)), "share": share(all("core20", $0), of: list)] }
        context["plus"] = (model?.plus.map(\.name) ?? []).map { ["label": $0, "count": shown(all("plus", $0))] }
        context["five"] = (model?.five.map(\.name) ?? []).map { ["label": $0, "count": shown(all("five", $0))] }
        context["gaps"] = Self.dataGaps(gaps, totals: totals, list: list, network: network, shown: shown, share: share)
        context["gapBreakdowns"] = Self.gapBreakdowns(gaps, totals: totals, share: share)
        return page("population", context, viewer: viewer)
    }
}

extension WebApp {
    /// The latest summary of each practice that is, or was in the membership window, a member of the PCN.
    static func populationSummaries(pcn: String, in conn: isolated PostgresConnection) throws -> [(PopulationStore.Run, [PopulationSummary.Count])] {
        try PracticeHistory.practices(inPCN: pcn, since: membershipWindowStart(), in: conn).compactMap { try PopulationStore.latest(practice: $0.ods, in: conn) }
    }

    /// The people the data misses: each gap's count and share of the list, beside the PCN's share (suppressed).
    static func dataGaps(_ gaps: [Cohort], totals: [String: Int], list: Int, network: [(PopulationStore.Run, [PopulationSummary.Count])],
                         shown: (Int) -> String, share: (Int, Int) -> String) -> [[String: String]] {
        let networkList = network.reduce(0) { $0 + $1.0.listSize }
        return gaps.map { g in
            let n = totals["cohort|\(g.id)|all|"] ?? 0
            let pcnN = network.reduce(0) { sum, s in sum + (s.1.first { $0.measure == "cohort" && $0.category == g.id && $0.dimension == "all" }?.value ?? 0) }
            return ["label": g.label, "source": g.source, "count": shown(n), "share": share(n, list),
                    "pcnShare": network.isEmpty ? "" : Format.percent(Suppression.percent(pcnN, of: networkList))]
        }
    }

    /// Each gap as a share of each group (IMD quintile, age band, sex, ethnic group): who the data misses most.
    /// A group's size is its patients over all segments (everyone is in one).
    static func gapBreakdowns(_ gaps: [Cohort], totals: [String: Int], share: (Int, Int) -> String) -> [[String: Any]] {
        guard !gaps.isEmpty else { return [] }
        return [("imd_quintile", "IMD quintile (1 = most deprived)"), ("age_band", "Age band"), ("sex", "Sex"), ("ethnic_group", "Ethnic group")].map { dimension, title in
            var sizes: [String: Int] = [:]
            for (k, v) in totals {
                let p = k.split(separator: "|", omittingEmptySubsequences: false)
                if p[0] == "segment", p[2] == dimension { sizes[String(p[3]), default: 0] += v }
            }
            return ["title": title, "gapLabels": gaps.map { ["label": $0.label] },
                    "rows": sizes.keys.sorted().map { g -> [String: Any] in
                        ["group": g, "cells": gaps.map { gap in ["value": share(totals["cohort|\(gap.id)|\(dimension)|\(g)"] ?? 0, sizes[g]!)] }]
                    }] as [String: Any]
        }
    }

    /// The population health models and cohorts of the running configuration (the pipeline's), or the shipped ones.
    func stratifier() async -> PopulationStratifier? {
        if let own = await inputs().population { return own }
        return try? PopulationStratifier.shipped.get()
    }
}
