import Clinical
import Foundation
import RulesEngine
import Storage

/// The PCN page's Network Contract DES section: the PCN's own stored run (its members' counts summed, IIF
/// points and pounds), each member practice's contribution from the runs it was summed from, and where the
/// PCN's declaration stands. Nothing is summed here: the figures are the stored run's.
extension WebApp {
    func desSection(pcn: String, rulesets: [Ruleset]) async throws -> [String: Any]? {
        guard let rs = chosenRuleset(nil, rulesets.filter { $0.kind == .des }) else { return nil }
        let loaded = try await database.run { conn -> (StoredFigures, [(String, String, StoredFigures)], String)? in
            guard let run = try StoredFigures.latestRunID(practice: pcn, ruleset: rs.id, in: conn), let figures = try StoredFigures.load(run: run, in: conn)
            else { return nil }
            let members = try PCNRuns.members(of: run, in: conn).compactMap { m -> (String, String, StoredFigures)? in
                guard let f = try StoredFigures.load(run: m.runID, in: conn) else { return nil }
                return (m.practice, try PracticeHistory.organisation(m.practice, on: figures.achievementDate, in: conn)?.name ?? m.practice, f)
            }
            let state = try DeclarationStore.state(.init(practice: pcn, ruleset: rs.id, achievementDate: figures.achievementDate), in: conn)
            return (figures, members, state.words(pcn: true))
        }
        guard let (figures, members, state) = loaded else { return nil }
        let definitions = Dictionary(rs.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = figures.indicators.compactMap { r -> [String: Any]? in
            guard let def = definitions[r.id] else { return nil }
            let c = r.completeness
            let (rag, words) = c.computable ? Format.rag(r.achievement, indicator: def) : ("none", "Cannot be computed: code lists missing")
            let cells = members.map { m -> [String: String] in
                guard let mine = m.2.indicators.first(where: { $0.id == r.id }) else { return ["text": "–"] }
                return ["text": "\(mine.numerator) / \(mine.denominator)"]
            }
            var row: [String: Any] = [
                "id": r.id, "describe": def.describe, "rag": rag, "ragWords": words, "cells": cells,
                "achievement": c.computable ? "\(Format.percent(r.achievement)) (\(r.numerator)/\(r.denominator))" : "cannot be computed (\(r.numerator)/\(r.denominator))",
                "thresholds": "\(Int(r.lowerThreshold ?? def.lowerThreshold))–\(Int(r.upperThreshold ?? def.upperThreshold))%",
                "points": "\(Format.points(r.points)) of \(Format.points(r.maxPoints))",
            ]
            if c.status != .complete { row["completeness"] = c.words }
            if let pounds = r.pounds { row["pounds"] = "£" + Format.pounds(pounds) }
            return row
        }
        var section: [String: Any] = [
            "title": rs.title, "ruleset": rs.id, "date": figures.achievementDate.description, "state": state, "listSize": figures.listSize,
            "practices": members.map { ["ods": $0.0, "name": $0.1] }, "rows": rows,
            "points": Format.points(figures.pointsAchieved), "maxPoints": Format.points(figures.pointsAvailable),
        ]
        if let pounds = figures.pounds { section["pounds"] = Format.pounds(pounds) }
        if let available = figures.poundsAvailable { section["poundsAvailable"] = Format.pounds(available) }
        if !figures.unverifiedFigures.isEmpty { section["unverified"] = figures.unverifiedFigures.joined(separator: ", ") }
        if !figures.notComputable.isEmpty { section["notComputable"] = figures.notComputable.joined(separator: ", ") }
        return section
    }
}
