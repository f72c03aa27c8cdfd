import Clinical
import Foundation
import Hummingbird
import QRISK3
import Storage
import Stratification

/// The population health page of a practice or a PCN: segment sizes (and by IMD quintile, ethnic group, sex and
/// age band), frailty recorded and estimated, QRISK3 bands, Core20PLUS5, all from the summaries stored with
/// each practice's latest extract. Beyond the practice the same suppression as the inequalities page applies.
extension WebApp {
    func populationPage(_ viewer: Viewer, practice: String?, pcn: String?) async throws -> Response {
        let loaded = try await database.run { conn -> (String, [(PopulationStore.Run, [PopulationSummary.Count])]) in
            if let practice {
                let name = try PracticeHistory.organisation(practice, on: todayInEngland(), in: conn)?.name ?? practice
                return (name, [try PopulationStore.latest(practice: practice, in: conn)].compactMap { $0 })
            }
            let code = pcn ?? ""
            let members = try PracticeHistory.practices(inPCN: code, since: membershipWindowStart(), in: conn).map(\.ods)
            return (try PCNRuns.name(of: code, in: conn), try members.compactMap { try PopulationStore.latest(practice: $0, in: conn) })
        }
        let (name, summaries) = loaded
        let model = await stratifier()?.segmentation
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
        return page("population", context, viewer: viewer)
    }
}

extension WebApp {
    /// The population health models and cohorts of the running configuration (the pipeline's), or the shipped ones.
    func stratifier() async -> PopulationStratifier? {
        if let own = await inputs().population { return own }
        return try? PopulationStratifier.shipped.get()
    }
}
