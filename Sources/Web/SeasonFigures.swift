import Payments
import RulesEngine
import Storage

extension SeasonView {
    /// A PCN's flu season view from its stored weekly figures (cohorts limited to `cohorts` unless empty), with
    /// the cohorts' targets as the latest runs stored them (the rules' own where a run has none).
    public static func from(_ figures: ResultsQuery.SeasonFigures, season rs: Ruleset, cohorts: Set<String> = []) -> SeasonView {
        func rows(_ r: [ResultsQuery.WeeklyRow]) -> [SeasonView.Row] {
            r.filter { cohorts.isEmpty || cohorts.contains($0.indicator) }
                .map { .init(week: $0.week, practice: $0.practice, cohort: $0.indicator, denominator: $0.denominator, numerator: $0.numerator) }
        }
        var targets = Dictionary(uniqueKeysWithValues: rs.indicators.compactMap { i in i.target.map { (i.id, $0.percent) } })
        for r in figures.thisSeason.sorted(by: { $0.week < $1.week }) { if let t = r.target { targets[r.indicator] = t } }
        return SeasonView.build(season: rs.id, seasonEnd: rs.payPeriodEnd, rows: rows(figures.thisSeason), lastSeason: rows(figures.lastSeason), targets: targets)
    }
}
