/// One patient's outcome for one indicator, with the rule that decided it (1-based; the denominator
/// rule for pca/excluded/denominator, the numerator rule for numerator).
public struct PatientOutcome: Sendable, Codable, Hashable {
    public var patient: String
    public var indicator: String
    public var outcome: Outcome
    /// The deciding rule, e.g. `denominator 9` or `numerator 1`; nil when not on the register.
    public var rule: String?
    /// The CQRS field of a PCA or exclusion.
    public var field: String?

    public init(patient: String, indicator: String, outcome: Outcome, rule: String?, field: String?) {
        self.patient = patient
        self.indicator = indicator
        self.outcome = outcome
        self.rule = rule
        self.field = field
    }
}

/// The patients of a practice who share one outcome of one indicator through the same deciding rule.
/// Patient-level results travel as these sets (row numbers, not strings), so a million patients' outcomes
/// cost a few integer arrays rather than millions of values, and are stored the same way.
public struct PatientOutcomeSet: Sendable, Hashable {
    public var indicator: String
    public var outcome: Outcome
    /// The deciding rule, e.g. `denominator 9` or `numerator 1`.
    public var rule: String?
    /// The CQRS field of a PCA, exclusion or named numerator reject.
    public var field: String?
    /// The patients, as rows of the result's `patientIDs`, in list order.
    public var members: [Int32]

    public init(indicator: String, outcome: Outcome, rule: String?, field: String?, members: [Int32]) {
        self.indicator = indicator
        self.outcome = outcome
        self.rule = rule
        self.field = field
        self.members = members
    }
}

/// Everything one ruleset computed for one practice.
public struct PracticeResult: Sendable {
    public var ods: String
    public var pcn: String?
    public var listSize: Int
    public var registers: [RegisterResult]
    public var indicators: [IndicatorResult]
    /// Patient-level outcomes (when asked for), grouped by indicator, outcome and deciding rule: each patient's
    /// outcome for each indicator whose register they are on. A patient without an outcome for an indicator
    /// is not on its register.
    public var outcomeSets: [PatientOutcomeSet]?
    /// The practice's patient identifiers, which the sets' members index.
    public var patientIDs: [String]

    public init(ods: String, pcn: String?, listSize: Int, registers: [RegisterResult], indicators: [IndicatorResult],
                outcomeSets: [PatientOutcomeSet]?, patientIDs: [String]) {
        self.ods = ods
        self.pcn = pcn
        self.listSize = listSize
        self.registers = registers
        self.indicators = indicators
        self.outcomeSets = outcomeSets
        self.patientIDs = patientIDs
    }

    /// A result from one value per patient and indicator (tests, and readers of stored outcomes).
    public init(ods: String, pcn: String?, listSize: Int, registers: [RegisterResult], indicators: [IndicatorResult],
                patients: [PatientOutcome]?) {
        var ids: [String] = []
        var row: [String: Int32] = [:]
        var sets: [PatientOutcomeSet] = []
        var setOf: [PatientOutcomeSet: Int] = [:]
        for o in patients ?? [] {
            let r = row[o.patient] ?? {
                ids.append(o.patient)
                row[o.patient] = Int32(ids.count - 1)
                return Int32(ids.count - 1)
            }()
            let key = PatientOutcomeSet(indicator: o.indicator, outcome: o.outcome, rule: o.rule, field: o.field, members: [])
            if let k = setOf[key] { sets[k].members.append(r) } else {
                setOf[key] = sets.count
                sets.append(PatientOutcomeSet(indicator: o.indicator, outcome: o.outcome, rule: o.rule, field: o.field, members: [r]))
            }
        }
        self.init(ods: ods, pcn: pcn, listSize: listSize, registers: registers, indicators: indicators,
                  outcomeSets: patients == nil ? nil : sets, patientIDs: ids)
    }

    /// One value per patient and indicator, set by set (made on demand: worklists and tests read it).
    public var patients: [PatientOutcome]? {
        outcomeSets.map { sets in
            sets.flatMap { s in
                s.members.map { PatientOutcome(patient: patientIDs[Int($0)], indicator: s.indicator, outcome: s.outcome, rule: s.rule, field: s.field) }
            }
        }
    }
}
