import RulesEngine

/// QOF payment arithmetic (facts §3): points linear between thresholds; pounds = points × value of a
/// point × list-size factor (practice list ÷ national average) × prevalence factor (practice
/// prevalence ÷ national, prevalence-weighted groups only).
public enum PaymentCalculator {
    public static func practice(
        _ result: PracticeResult, ruleset: Ruleset, national: NationalFigures, lastYearPounds: Double? = nil
    ) -> PracticePayment {
        let listFactor = national.averageListSize > 0 ? Double(result.listSize) / national.averageListSize : 0
        let registers = Dictionary(uniqueKeysWithValues: result.registers.map { ($0.id, $0.size) })
        let definitions = Dictionary(uniqueKeysWithValues: ruleset.indicators.map { ($0.id, $0) })
        var payments: [IndicatorPayment] = []
        let protected = national.incomeProtection.points[result.ods] ?? [:]
        var missingProtection: [String] = []
        for r in result.indicators {
            guard let def = definitions[r.id] else { continue }
            // A group whose register is empty has its points removed; the group's register where the
            // national figures name one, else the indicator's own.
            let groupRegister = national.prevalence[def.group].flatMap { registers[$0.register] }
            let available = (groupRegister ?? r.registerSize) > 0
            var prevalenceFactor = 1.0
            if !national.unweightedGroups.contains(def.group) && !national.unweightedGroups.contains(def.id),
                let p = national.prevalence[def.group]
            {
                let size = registers[p.register] ?? r.registerSize
                let practicePrevalence = result.listSize > 0 ? 100 * Double(size) / Double(result.listSize) : 0
                prevalenceFactor = practicePrevalence / p.percent
            }
            let perPoint = national.pointValue * listFactor * prevalenceFactor
            var points = available ? r.points : 0
            var maxPoints = available ? r.maxPoints : 0
            if def.payment == .protected {
                // Paid at last year's points, neither up nor down: nothing more to gain.
                if protected[r.id] == nil { missingProtection.append(r.id) }
                points = min(r.maxPoints, protected[r.id] ?? 0)
                maxPoints = points
            }
            let computable = r.completeness.computable
            payments.append(IndicatorPayment(
                id: r.id, group: def.group, achievement: r.achievement, points: points, maxPoints: def.payment == .protected ? maxPoints : r.maxPoints, available: available,
                listSizeFactor: listFactor, prevalenceFactor: prevalenceFactor, pounds: points * perPoint,
                poundsAvailable: maxPoints * perPoint, poundsAtStake: computable ? (maxPoints - points) * perPoint : 0,
                patientsForNextPoint: available && computable ? patientsForNextPoint(r, def) : nil, computable: computable))
        }
        let pounds = payments.reduce(0) { $0 + $1.pounds }
        let aspiration = lastYearPounds.map { $0 * national.aspirationPercent / 100 }
        return PracticePayment(
            ods: result.ods, year: national.year, listSize: result.listSize, pointsAchieved: payments.reduce(0) { $0 + $1.points },
            pointsAvailable: payments.filter(\.available).reduce(0) { $0 + $1.maxPoints }, pounds: pounds,
            poundsAvailable: payments.reduce(0) { $0 + $1.poundsAvailable }, poundsAtStake: payments.reduce(0) { $0 + $1.poundsAtStake },
            poundsNotAssessed: payments.filter { !$0.computable }.reduce(0) { $0 + $1.poundsAvailable - $1.pounds },
            aspiration: aspiration, balance: aspiration.map { pounds - $0 }, indicators: payments,
            unverifiedFigures: national.unverified
                + (missingProtection.isEmpty ? [] : ["income protection points not supplied for \(missingProtection.joined(separator: ", "))"]))
    }

    /// The result with each indicator's points as they are paid (income-protected indicators at last
    /// year's points, groups with an empty register at none): what an achieved-points file reports.
    public static func asPaid(_ result: PracticeResult, ruleset: Ruleset, national: NationalFigures) -> PracticeResult {
        let paid = Dictionary(uniqueKeysWithValues: practice(result, ruleset: ruleset, national: national).indicators.map { ($0.id, $0.points) })
        var r = result
        for i in r.indicators.indices { r.indicators[i].points = paid[r.indicators[i].id] ?? r.indicators[i].points }
        return r
    }

    /// The smallest number of extra numerator patients that raises the points to the next whole point
    /// (or to the maximum when less than a point remains).
    static func patientsForNextPoint(_ r: IndicatorResult, _ def: Indicator) -> Int? {
        guard r.denominator > 0, r.points < r.maxPoints else { return nil }
        let target = min(r.maxPoints, (r.points + 1e-9).rounded(.down) + 1)
        // Achievement needed for `target` points on the linear scale.
        let needed = def.lowerThreshold + (def.upperThreshold - def.lowerThreshold) * target / r.maxPoints
        var k = max(1, Int((needed / 100 * Double(r.denominator) - Double(r.numerator)).rounded(.up)))
        // Guard against rounding at the boundary (points are strictly above the lower threshold).
        while k <= r.denominator - r.numerator {
            let a = 100 * Double(r.numerator + k) / Double(r.denominator)
            if points(achievement: a, lower: def.lowerThreshold, upper: def.upperThreshold, max: r.maxPoints) >= target - 1e-9 { return k }
            k += 1
        }
        return nil
    }
}
