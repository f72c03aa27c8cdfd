import Clinical
import Foundation

/// A versioned set of business rules (e.g. `qof-2025-26`): key dates, fields, registers and
/// indicators. Rules are data: the engine knows this vocabulary, never the indicators.
public struct Ruleset: Sendable {
    public var id: String
    /// What the ruleset is: QOF (points and pounds), a vaccination programme (uptake against targets) or a DES.
    public var kind: Kind
    /// The family its years share (`qof`, `flu`, `shingles`): last year's figures come from the same family.
    public var family: String
    /// The ruleset of the year before (`qof-2024-25` for `qof-2025-26`), when there is one.
    public var previous: String?
    public var title: String
    /// Where the rules came from (business rules version, guidance), for people.
    public var source: String
    /// SHA-256 of the rule file's text: the exact rules a run used.
    public var sha256: String
    /// The rule file's text, stored with the runs that used it (so a stored run can be read with its own rules);
    /// for a ruleset that extends another, the merged text.
    public var text: String = ""
    /// What the file changes in the ruleset it extends (empty when it extends none).
    public var changes: [String] = []
    public var payPeriodStart: Day
    public var payPeriodEnd: Day
    /// Further key dates the rule file names under `dates:` (e.g. `ADULT_START`), usable in rules like PPSD.
    public var keyDates: [String: Day] = [:]
    /// Age is in whole years on this date (default: the achievement date).
    public var ageOn: AgeReference
    public var fields: [FieldDefinition]
    public var registers: [Chain]
    public var indicators: [Indicator]
    /// Clusters the rules name, with any declared stand-in or refset.
    public var clusters: [String: ClusterReference]
    /// Who a vaccination programme's call list invites, and in what order (nil: the ruleset has no call list).
    public var callList: CallList? = nil

    /// A programme's call list as data: the cohorts whose unvaccinated patients the practice invites, highest
    /// clinical priority first (a patient in several appears once, under the first), and the numerator field
    /// that names those still to vaccinate. Cohorts vaccinated elsewhere (school-age children) are left out.
    public struct CallList: Sendable, Hashable {
        public var order: [String]
        public var field: String

        public init(order: [String], field: String) {
            self.order = order
            self.field = field
        }
    }

    /// The closed vocabulary of ruleset kinds.
    public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
        case qof, programme, des
    }

    /// True for a vaccination programme (uptake against targets, no points).
    public var isProgramme: Bool { kind == .programme }

    public enum AgeReference: Sendable, Hashable {
        case achievementDate
        case fixed(Day)
    }
}

/// A cluster named by a ruleset: normally a PCD cluster found by name in the library; optionally
/// declared with its refset id, a stand-in list when the official one is not available, or as
/// optional (evaluated as empty, and reported by `qofd clusters check`).
public struct ClusterReference: Sendable, Hashable {
    public var name: String
    public var refset: String?
    public var standIn: String?
    public var optional: Bool
    public var note: String?
}

/// A value computed once per patient from their records, e.g. `BP_DAT`: the latest BP_COD in the
/// 12 months to PPED, with its values.
public struct FieldDefinition: Sendable {
    public enum Kind: String, Sendable { case latest, earliest, count }
    public enum SameDay: String, Sendable { case lowest, highest }

    public var name: String
    public var kind: Kind
    public var clusters: [String]
    /// Read medication issues (dm+d) instead of clinical events.
    public var medications: Bool
    var after: Expression?
    var onOrAfter: Expression?
    var before: Expression?
    var onOrBefore: Expression?
    public var sameDay: SameDay
    public var describe: String
    public var line: Int

    /// Field names this field's window depends on.
    var dependencies: Set<String> {
        [after, onOrAfter, before, onOrBefore].compactMap { $0 }.reduce(into: Set<String>()) { $0.formUnion($1.references) }
    }
}

/// What a rule does when its condition is true or false.
public enum RuleAction: String, Sendable { case select, reject, next }

/// One step of a chain: `if condition -> then | else`, naming the CQRS field a reject counts in.
public struct Rule: Sendable {
    var condition: Expression
    /// The fields, registers and built-ins the condition looks at.
    public var references: Set<String> { condition.references }
    public var conditionText: String
    public var then: RuleAction
    public var otherwise: RuleAction
    /// CQRS field counted when this rule rejects (e.g. `PAT_AGEO79`, `HYPPCADEC`).
    public var field: String?
    public var kind: FieldKind
    public var describe: String?
    public var line: Int

    public typealias RejectKind = FieldKind
}

/// What a named CQRS field counts. PCAs and exclusions leave the denominator; a vaccination cohort's
/// tallies (vaccinated by the practice, elsewhere, declined, …) count patients inside it and are never
/// exclusions.
public enum FieldKind: String, Sendable, Codable, Hashable, CaseIterable {
    case pca, exclusion, tally
}

/// An ordered chain of rules: the first Select or Reject decides.
public struct Chain: Sendable {
    public var id: String
    public var describe: String
    /// The register's name in CQRS files (e.g. "Hypertension Register"); the id when not given.
    public var cqrs: String?
    public var cqrsName: String { cqrs ?? id }
    public var rules: [Rule]
    public var line: Int
}

/// A QOF indicator (or vaccination cohort): a register, a denominator chain, a numerator chain
/// that selects from the denominator, and what achievement earns.
public struct Indicator: Sendable {
    public var id: String
    public var describe: String
    public var group: String
    public var register: String
    public var denominator: Chain
    public var numerator: Chain
    public var points: Double
    public var lowerThreshold: Double
    public var upperThreshold: Double
    /// Source of the definition and thresholds; `verified` false where the facts are not confirmed.
    public var source: String
    public var verified: Bool
    /// Uptake target in percent (vaccination cohorts), with where it comes from.
    public var target: Target?
    /// How the indicator earns points: on the threshold scale, all or nothing for a register, or fixed at
    /// last year's points (income protection).
    public var payment: Payment = .threshold
    public var line: Int
    /// How CQRS labels this indicator's register row: nil for the register's own label, "" when CQRS reports no
    /// register row for it (SMOK004, CS005, CS006), or another label (BP002 reports "Hypertension Register").
    public var cqrsRegister: String? = nil

    /// How an indicator's points are earned (facts §3.1, §3.5).
    public enum Payment: String, Sendable {
        /// Linear between the lower and upper thresholds.
        case threshold
        /// All or nothing: the points when the register is established (not empty).
        case register
        /// Income-protected: the practice's points for the indicator in the previous year, neither up nor down.
        case protected
    }
}

extension Ruleset {
    /// The register row's label in CQRS files for an indicator (nil: CQRS reports no register row for it).
    public func cqrsRegisterLabel(_ indicator: Indicator) -> String? {
        if let label = indicator.cqrsRegister { return label.isEmpty ? nil : label }
        return registers.first { $0.id == indicator.register }?.cqrsName ?? indicator.register
    }

    /// CQRS's order of an indicator's rows: field names compared without regard to case, an underscore before
    /// digits and letters (`DIAG_DAT23` before `DIAG1_DAT`, `P_AGE25_49` before `PREG_DAT`).
    public static func cqrsOrder(_ a: String, _ b: String) -> Bool {
        func key(_ s: String) -> String { s.uppercased().replacingOccurrences(of: "_", with: " ") }
        let (x, y) = (key(a), key(b))
        return x == y ? a < b : x < y
    }

    /// Whether CQRS reports denominator and numerator rows for the indicator (a register indicator has its
    /// register row only).
    public static func cqrsReportsCounts(_ indicator: Indicator) -> Bool { indicator.payment != .register }
}

/// A target for a cohort: national ambition, local ICB target or a former IIF threshold.
public struct Target: Sendable, Hashable {
    public var percent: Double
    public var source: String
    public var verified: Bool
}
