import Clinical
import Payments
import Postgres
import RulesEngine
import Storage

/// The PCN's own run of a DES ruleset: after a member practice's run is stored, the PCN's counts are summed
/// again from its members' latest runs for that achievement date (the members on that date), priced with the
/// IIF arithmetic and stored as a run whose subject is the PCN, when they changed. Declarations, reports and
/// pages then read it like any run, so the PCN's figure is computed once and read everywhere.
enum PCNAggregation {
    /// Stores the PCN's run for `ruleset` on `achievementDate` if its figures changed; returns its id (nil when
    /// unchanged or when no member has a run).
    static func refresh(pcn: String, ruleset: Ruleset, achievementDate: Day, figures: IIFNationalFigures?, engineVersion: String, worker: String?,
                        in conn: isolated PostgresConnection) throws -> Int64? {
        let memberRuns = try PCNRuns.memberRuns(pcn: pcn, ruleset: ruleset.id, achievementDate: achievementDate, in: conn)
        var members: [PCNDESAchievement.Member] = []
        var registers: [String: Int] = [:]
        var kinds: [String: [String: FieldKind]] = [:]
        var completeness: [String: Completeness] = [:]
        var clusterVersions = Set<String>()
        for m in memberRuns {
            guard let f = try StoredFigures.load(run: m.runID, in: conn) else { continue }
            clusterVersions.insert(f.clusterVersion)
            var sizes: [String: Int] = [:]
            let indicators = f.indicators.map { i -> IndicatorResult in
                sizes[i.register] = i.registerSize
                kinds[i.id, default: [:]].merge(i.fieldKinds) { a, _ in a }
                // The PCN's figure is as complete as its least complete member's.
                if let known = completeness[i.id] {
                    if (known.computable && !i.completeness.computable) || (known.status == .complete && i.completeness.status != .complete) {
                        completeness[i.id] = i.completeness
                    }
                } else {
                    completeness[i.id] = i.completeness
                }
                return IndicatorResult(id: i.id, register: i.register, registerSize: i.registerSize, denominator: i.denominator, numerator: i.numerator,
                                       fields: i.fields, fieldKinds: i.fieldKinds, achievement: i.achievement, points: i.points, maxPoints: i.maxPoints,
                                       ruleCounts: [], completeness: i.completeness)
            }
            for (r, n) in sizes { registers[r, default: 0] += n }
            members.append(.init(practice: m.practice, listSize: f.listSize, indicators: indicators))
        }
        guard !members.isEmpty else { return nil }
        let a = PCNDESAchievement.compute(pcn: pcn, members: members, ruleset: ruleset, figures: figures)
        let definitions = Dictionary(ruleset.indicators.map { ($0.id, $0) }, uniquingKeysWith: { x, _ in x })
        let indicators = a.results.map { r in
            IndicatorResult(id: r.id, register: definitions[r.id]?.register ?? "", registerSize: a.registerSizes[r.id] ?? 0, denominator: r.denominator,
                            numerator: r.numerator, fields: a.fields[r.id] ?? [:], fieldKinds: kinds[r.id] ?? [:], achievement: r.achievement,
                            points: r.points, maxPoints: r.maxPoints, ruleCounts: [], completeness: completeness[r.id] ?? .complete)
        }
        let result = PracticeResult(ods: pcn, pcn: nil, listSize: a.listSize, registers: registers.sorted { $0.key < $1.key }.map { RegisterResult(id: $0.key, size: $0.value) },
                                    indicators: indicators, outcomeSets: nil, patientIDs: [])
        let payment = figures.map { f in Self.payment(a, figures: f, definitions: definitions) }
        let record = RunRecord(
            extractID: nil, practice: PracticeInfo(ods: pcn, name: try PCNRuns.name(of: pcn, in: conn)), rulesetID: ruleset.id,
            rulesetSHA256: ruleset.sha256, clusterVersion: clusterVersions.sorted().joined(separator: "+"), achievementDate: achievementDate,
            result: result, engineVersion: engineVersion, worker: worker, payment: payment, ruleset: ruleset)
        guard let id = try PCNRuns.storeIfChanged(record, in: conn) else { return nil }
        try PCNRuns.recordMembers(of: id, memberRuns.filter { m in members.contains { $0.practice == m.practice } }, in: conn)
        return id
    }

    /// The PCN's points and pounds in the shape every run stores them.
    static func payment(_ a: PCNDESAchievement, figures: IIFNationalFigures, definitions: [String: Indicator]) -> PracticePayment {
        let lines = a.results.map { r -> IndicatorPayment in
            // What the indicator would pay at its upper threshold, with this year's adjustments.
            let available = r.maxPoints * figures.pointValue * (r.listSizeAdjustment ?? 0) * (r.prevalenceAdjustment ?? 0)
            let pounds = r.pounds ?? 0
            return IndicatorPayment(id: r.id, group: definitions[r.id]?.group ?? "", achievement: r.achievement, points: r.points, maxPoints: r.maxPoints,
                                    available: true, listSizeFactor: r.listSizeAdjustment ?? 0, prevalenceFactor: r.prevalenceAdjustment ?? 0,
                                    pounds: pounds, poundsAvailable: available, poundsAtStake: r.computable ? max(0, available - pounds) : 0,
                                    patientsForNextPoint: nil, computable: r.computable)
        }
        return PracticePayment(
            ods: a.pcn, year: figures.year, listSize: a.listSize, pointsAchieved: a.points, pointsAvailable: a.maxPoints,
            pounds: lines.reduce(0) { $0 + $1.pounds }, poundsAvailable: lines.reduce(0) { $0 + $1.poundsAvailable },
            poundsAtStake: lines.reduce(0) { $0 + $1.poundsAtStake },
            poundsNotAssessed: lines.filter { !$0.computable }.reduce(0) { $0 + $1.poundsAvailable },
            indicators: lines, unverifiedFigures: a.unverified)
    }
}

extension ExtractProcessor {
    /// After member runs of DES rulesets are stored (in the same transaction): each one's PCN run, re-summed; a
    /// PCN declaration whose figures this changed goes back to the PCN. Returns the PCN runs stored.
    func refreshPCNs(after records: [RunRecord], in conn: isolated PostgresConnection) throws
        -> [(pcn: String, ruleset: Ruleset, achievementDate: Day)]
    {
        var stored: [(pcn: String, ruleset: Ruleset, achievementDate: Day)] = []
        for r in records {
            guard let rs = r.ruleset, rs.kind == .des, let pcn = r.practice.pcnODS else { continue }
            guard try PCNAggregation.refresh(pcn: pcn, ruleset: rs, achievementDate: r.achievementDate, figures: iifFigures[rs.id],
                                             engineVersion: Self.engineVersion, worker: worker, in: conn) != nil else { continue }
            try DeclarationStore.checkForChanges(.init(practice: pcn, ruleset: rs.id, achievementDate: r.achievementDate), actor: "qofd \(worker)", in: conn)
            stored.append((pcn, rs, r.achievementDate))
        }
        return stored
    }
}
