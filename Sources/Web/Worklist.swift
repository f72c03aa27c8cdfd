import Clinical
import Clusters
import RulesEngine
import Storage

/// The patients behind an indicator who could still change it: those in the denominator and not yet
/// achieving, each with what is missing and by when, and those just registered or diagnosed whom the
/// indicator leaves out this year but will count next year.
public struct Worklist: Sendable {
    public struct Entry: Sendable {
        /// The patient's row in the snapshot's population.
        public var row: Int
        public var patient: String
        /// Formatted 3-3-4 ("943 476 5919"), empty when the extract has none.
        public var nhsNumber: String
        public var born: Day
        public var age: Int
        public var sex: String
        /// The numerator rule the patient does not yet meet.
        public var missing: String
        /// The facts that rule looked at ("latest blood pressure: 146/88 on 2026-01-12").
        public var facts: [String]
        /// The last day a change counts for this year's achievement.
        public var dueBy: Day
        /// An earlier step the record asks for (a second review invitation is due from this day).
        public var nextStep: Day?
    }

    public struct NewPatient: Sendable {
        public var patient: String
        public var age: Int
        /// The rule that left the patient out ("registered in the last 9 months").
        public var reason: String
        public var field: String?
    }

    public var indicator: Indicator
    public var entries: [Entry]
    public var newPatients: [NewPatient]

    /// Builds the worklist of `indicator` from a snapshot; `filter` keeps entries whose text contains it.
    public init(_ snapshot: PracticeSnapshot, indicator def: Indicator, library: ClusterLibrary, filter: String = "") {
        indicator = def
        let population = snapshot.population
        let explainer = Engine(snapshot.compiled).explainer(population, library: library)  // the practice's tables once, not once a patient
        let ageOn = snapshot.compiled.ageOn
        let dueBy = snapshot.compiled.achievementDate < snapshot.compiled.ruleset.payPeriodEnd
            ? snapshot.compiled.ruleset.payPeriodEnd : snapshot.compiled.achievementDate
        let outcomes = snapshot.outcomes(of: def.id)
        let needle = filter.lowercased().trimmingCharacters(in: .whitespaces)
        var entries: [Entry] = []
        var newPatients: [NewPatient] = []
        for p in outcomes.keys.sorted() {
            let o = outcomes[p]!
            let age = population.birthDates[p].age(on: ageOn)
            switch o.outcome {
            case .denominator:
                let explanation = explainer.explain(patient: p, indicators: [def.id], detail: .worklist)
                let failing = explanation.steps.last { $0.chain == "\(def.id) numerator" }
                let invitations = Self.invitationHint(explanation.steps.filter { $0.chain == "\(def.id) denominator" })
                let entry = Entry(
                    row: p, patient: population.patientIDs[p], nhsNumber: Self.nhsNumber(population.nhsNumbers[p]), born: population.birthDates[p],
                    age: age, sex: population.sexes[p].letter,
                    missing: failing.map { "not yet: \($0.describe ?? Self.words(forRule: $0.rule, of: def, fields: snapshot.compiled.ruleset.fields))" }
                        ?? "not yet in the numerator",
                    facts: Self.telling(failing?.facts ?? []) + invitations.facts, dueBy: dueBy, nextStep: invitations.nextStep)
                if needle.isEmpty || (entry.missing + " " + entry.facts.joined(separator: " ")).lowercased().contains(needle) {
                    entries.append(entry)
                }
            case .pca, .excluded:
                // Left out because registered or diagnosed recently (a rule comparing a date with PPED - N months).
                guard let rule = o.rule, rule.hasPrefix("denominator "), let n = Int(rule.dropFirst("denominator ".count)),
                    n >= 1, n <= def.denominator.rules.count
                else { continue }
                let r = def.denominator.rules[n - 1]
                if Self.leavesOutNewcomers(r) {
                    newPatients.append(NewPatient(patient: population.patientIDs[p], age: age, reason: r.describe ?? r.conditionText, field: r.field))
                }
            default:
                continue
            }
        }
        self.entries = entries
        self.newPatients = newPatients
    }

    /// A numerator rule the rule file gives no words for, in words: what its fields record ("blood pressure
    /// reading in the last 12 months; latest HbA1c"), never the rule's syntax.
    static func words(forRule number: Int, of indicator: Indicator, fields: [FieldDefinition]) -> String {
        guard number >= 1, number <= indicator.numerator.rules.count else { return "the numerator's conditions" }
        let names = indicator.numerator.rules[number - 1].references
        let described = fields.filter { names.contains($0.name) }.map(\.describe).filter { !$0.isEmpty }
        return described.isEmpty ? "the numerator's conditions" : described.joined(separator: "; ") + " (as the indicator requires)"
    }

    /// A rule that leaves out patients registered or diagnosed recently: it compares one registration or
    /// diagnosis date with a date before the year's end (`REG_DAT > PPED - 3 months`, `HYP_DAT > PPED - 9 months`).
    /// An age rule (`PAT_DOB + 80 years > PPED - 12 months`) is not one: those patients are not new.
    static func leavesOutNewcomers(_ rule: Rule) -> Bool {
        let names = rule.references.subtracting(["PPED", "PPSD", "ACHV_DAT"])
        guard names.count == 1, let name = names.first, name != "PAT_DOB", name == "REG_DAT" || name.hasSuffix("_DAT") else { return false }
        let text = rule.conditionText.trimmingCharacters(in: .whitespaces)
        return text.hasPrefix("\(name) > PPED -") || text.hasPrefix("\(name) >= PPED -")
    }

    /// Where the patient stands with review invitations (the `…INVITE1_DAT` / `…INVITE2_DAT` fields an
    /// invitation PCA looks at): two invitations at least 7 days apart remove a patient who does not respond.
    static func invitationHint(_ steps: [Explanation.Step]) -> (facts: [String], nextStep: Day?) {
        for step in steps {
            // The first name ending in INVITE1_DAT (split by hand: this runs for every step of every patient of a
            // worklist, and a regular expression compiled each time cost most of a 2,000-patient worklist).
            guard let first = step.condition.split(whereSeparator: { c in !(c.asciiValue.map { $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) } ?? false) })
                .first(where: { $0.hasSuffix("INVITE1_DAT") }).map(String.init) else { continue }
            let second = first.replacingOccurrences(of: "INVITE1_DAT", with: "INVITE2_DAT")
            guard let sent = step.dates[first].flatMap(Day.init(iso:)) else { return (["no review invitation sent this year"], nil) }
            if let again = step.dates[second] { return (["invited on \(sent) and \(again)"], nil) }
            return (["first invitation sent \(sent); a second is due from \(sent.adding(days: 7))"], sent.adding(days: 7))
        }
        return ([], nil)
    }

    /// The facts worth reading: "none recorded" lines only when nothing at all was recorded.
    static func telling(_ facts: [String]) -> [String] {
        let recorded = facts.filter { !$0.hasSuffix(": none recorded") }
        return recorded.isEmpty ? facts : recorded
    }

    /// An NHS number as people read it, 3-3-4 (empty for none).
    static func nhsNumber(_ n: UInt64) -> String {
        guard n != 0 else { return "" }
        let digits = Array(String(format: "%010llu", n))
        return String(digits[0..<3]) + " " + String(digits[3..<6]) + " " + String(digits[6...])
    }

    /// The worklist as CSV for a practice's recall system (patient-identifiable). It starts with a UTF-8 byte
    /// order mark so that Excel reads names and terms correctly, and the NHS number's spaces keep Excel from
    /// turning it into a number.
    /// `entries` in the order and selection to write, `worth` what each is worth (see `WorklistOrder`).
    public func csv(_ entries: [Entry], worth: [Int: ThisWeek.Patient] = [:], risk: [Int: PopulationStore.PatientRisk] = [:]) -> String {
        var lines = ["\u{FEFF}patient_id,nhs_number,date_of_birth,age,sex,indicator,missing,facts,due_by,next_step_from,open_indicators,pounds_one_contact,risk"]
        for e in entries {
            let w = worth[e.row]
            lines.append(CSVCell.row([e.patient, e.nhsNumber, e.born.description, String(e.age), e.sex, indicator.id, e.missing,
                                      e.facts.joined(separator: "; "), e.dueBy.description, e.nextStep?.description ?? "", (w?.indicators ?? []).joined(separator: " "),
                                      String(format: "%.2f", w?.pounds ?? 0), risk[e.row]?.words ?? ""]))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
