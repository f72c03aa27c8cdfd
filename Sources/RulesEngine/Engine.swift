import Clinical

/// Where a patient ended up for one indicator.
public enum Outcome: String, Sendable, Codable, CaseIterable {
    /// In the denominator and achieving.
    case numerator
    /// In the denominator, not (yet) achieving: the worklist.
    case denominator
    /// Removed from the denominator by a personalised care adjustment.
    case pca
    /// Removed from the denominator by an exclusion (age, frailty, …).
    case excluded
    /// Not on the indicator's register.
    case notInRegister = "not-in-register"
}

/// The counts of one indicator for one practice, as CQRS carries them.
public struct IndicatorResult: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var registerSize: Int
    public var denominator: Int
    public var numerator: Int
    /// Patients removed by each PCA and exclusion field.
    public var fields: [String: Int]
    /// Whether each field is a PCA, an exclusion or (vaccination cohorts) a tally inside the denominator.
    public var fieldKinds: [String: FieldKind]
    /// How complete the code lists behind the figure are.
    public var completeness: Completeness
    /// Percent achieved (numerator / denominator × 100); nil when the denominator is 0.
    public var achievement: Double?
    public var points: Double
    public var maxPoints: Double
    /// How many patients left each chain at each rule (for the rule funnel).
    public var ruleCounts: [RuleCount]

    public init(id: String, register: String, registerSize: Int, denominator: Int, numerator: Int, fields: [String: Int],
                fieldKinds: [String: FieldKind], achievement: Double?, points: Double, maxPoints: Double, ruleCounts: [RuleCount],
                completeness: Completeness = .complete) {
        self.completeness = completeness
        self.id = id
        self.register = register
        self.registerSize = registerSize
        self.denominator = denominator
        self.numerator = numerator
        self.fields = fields
        self.fieldKinds = fieldKinds
        self.achievement = achievement
        self.points = points
        self.maxPoints = maxPoints
        self.ruleCounts = ruleCounts
    }
}

/// How many patients a rule selected or rejected.
public struct RuleCount: Sendable, Codable, Hashable {
    public var chain: String
    public var rule: Int
    public var action: String
    public var field: String?
    public var count: Int
}

/// One register's size for one practice.
public struct RegisterResult: Sendable, Codable, Hashable {
    public var id: String
    public var size: Int
    public init(id: String, size: Int) {
        self.id = id
        self.size = size
    }
}

/// Points for an achievement: none at or below the lower threshold, all at or above the upper,
/// linear between (QOF payment arithmetic, §3.1 of the facts).
public func points(achievement: Double?, lower: Double, upper: Double, max: Double) -> Double {
    guard let a = achievement else { return 0 }
    if a <= lower { return 0 }
    if a >= upper { return max }
    return max * (a - lower) / (upper - lower)
}

/// Points an indicator earns from this year's records: threshold indicators on the linear scale,
/// register indicators all or nothing. Income-protected indicators earn last year's points, which the
/// records cannot show: 0 here, set by the payment calculation from the protected points supplied.
public func indicatorPoints(_ indicator: Indicator, achievement: Double?, registerSize: Int) -> Double {
    switch indicator.payment {
    case .threshold: points(achievement: achievement, lower: indicator.lowerThreshold, upper: indicator.upperThreshold, max: indicator.points)
    case .register: registerSize > 0 ? indicator.points : 0
    case .protected: 0
    }
}

/// The rules engine: evaluates a compiled ruleset over a practice's population.
public struct Engine: Sendable {
    public let compiled: CompiledRuleset

    public init(_ compiled: CompiledRuleset) { self.compiled = compiled }

    /// Evaluates every register and indicator for every patient in the population (registered and
    /// alive on the achievement date). With `patientOutcomes`, also returns each patient's outcome
    /// for each indicator. The parts: the chains laid out once (`ChainLayout`), then per patient its
    /// registers, the indicators open to it, and each indicator's decision (`PatientPass`), counted in a
    /// `Tally` and, when asked, an `OutcomeCollector`; last, the counts summed up per indicator.
    public func evaluate(_ population: Population, patientOutcomes: Bool = false) -> PracticeResult {
        let ev = PatientEvaluator(compiled: compiled, population: population)
        let layout = ChainLayout(compiled)
        var tally = Tally(compiled, rules: layout.flat.count)
        var collector = patientOutcomes ? OutcomeCollector(compiled, rules: layout.flat.count) : nil
        let scratch = Scratch(compiled)
        ev.withRecords { records in
            layout.flat.withUnsafeBufferPointer { rules in
                let pass = PatientPass(compiled: compiled, ev: ev, s: scratch, rules: rules, layout: layout)
                for p in 0..<population.patientCount where ev.isInPopulation(p) {
                    tally.listSize += 1
                    ev.prepare(p, scratch, records)
                    let onRegister = pass.registers(p, &tally)
                    ev.prepareGated(p, scratch, records, indicators: pass.open(onRegister, p))
                    // Patients not on an indicator's register get no outcome (most patients, for most indicators).
                    for i in onRegister.members { pass.decide(i, p, &tally, &collector) }
                }
            }
        }
        let rs = compiled.ruleset
        return PracticeResult(
            ods: population.practice.ods, pcn: population.practice.pcnODS, listSize: tally.listSize,
            registers: rs.registers.enumerated().map { RegisterResult(id: $1.id, size: tally.registerSizes[$0]) },
            indicators: tally.summary(compiled, layout), outcomeSets: collector?.sets, patientIDs: population.patientIDs)
    }
}
