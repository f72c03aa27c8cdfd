import Clinical
import RulesEngine
import Storage

/// The orders a worklist can be read in. The default puts first the patients one contact would earn most
/// for across every indicator they are open in (the same figure as This week's work).
public enum WorklistOrder: String, Sendable, CaseIterable {
    /// Most pounds for one contact first (summed over the indicators the patient is open in).
    case pounds
    /// Soonest step first: a second review invitation due, then the year's end; most pounds among equals.
    case due
    /// Highest stored clinical risk first: frailty (severe first, recorded or estimated eFI), then computed QRISK3,
    /// then most indicators open, then oldest. Read from the run's stored population health (patient level).
    case risk
    /// By patient identifier, as the extract has them.
    case patient

    public var words: String {
        switch self {
        case .pounds: return "Most pounds for one contact"
        case .due: return "Soonest due"
        case .risk: return "Frailty, then QRISK3, then most open indicators"
        case .patient: return "Patient identifier"
        }
    }
}

extension Worklist {
    /// The entries to show: those whose gap is `missing` (all when nil or empty), in `order`, using `worth`
    /// (what a contact with each patient would earn, by population row).
    /// `risk`: each patient's stored frailty and QRISK3, by population row (`.risk` orders by it).
    public func ordered(_ order: WorklistOrder, missing: String?, worth: [Int: ThisWeek.Patient], risk: [Int: PopulationStore.PatientRisk] = [:]) -> [Entry] {
        let chosen = missing.flatMap { $0.isEmpty ? nil : $0 }.map { m in entries.filter { $0.missing == m } } ?? entries
        func pounds(_ e: Entry) -> Double { worth[e.row]?.pounds ?? 0 }
        func open(_ e: Entry) -> Int { worth[e.row]?.indicators.count ?? 0 }
        switch order {
        case .pounds:
            return chosen.sorted { (pounds($0), open($0), $1.patient) > (pounds($1), open($1), $0.patient) }
        case .due:
            return chosen.sorted { a, b in
                let (x, y) = ((a.nextStep ?? a.dueBy).daysSinceEpoch, (b.nextStep ?? b.dueBy).daysSinceEpoch)
                return x != y ? x < y : (pounds(a), b.patient) > (pounds(b), a.patient)
            }
        case .risk:
            func level(_ e: Entry) -> Int { risk[e.row]?.frailtyLevel ?? 0 }
            func score(_ e: Entry) -> Double { risk[e.row]?.qrisk3 ?? -1 }
            return chosen.sorted { a, b in
                (level(a), score(a), open(a), a.age) != (level(b), score(b), open(b), b.age)
                    ? (level(a), score(a), open(a), a.age) > (level(b), score(b), open(b), b.age) : a.patient < b.patient
            }
        case .patient:
            return chosen.sorted { $0.patient < $1.patient }
        }
    }

    /// What is missing, with how many patients each, most common first: the choices of the worklist's filter.
    public var gaps: [(missing: String, count: Int)] {
        var counts: [String: Int] = [:]
        for e in entries { counts[e.missing, default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }.sorted { ($0.count, $1.missing) > ($1.count, $0.missing) }
    }
}
