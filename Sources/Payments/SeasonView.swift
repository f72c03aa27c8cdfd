import Clinical

/// A PCN's vaccination season week by week: cumulative uptake per cohort for each practice and the
/// PCN, beside the same week last season and the target, with the end-of-season projection at the
/// current weekly rate and the patients each practice still needs to reach the target.
public struct SeasonView: Sendable, Codable {
    public struct Week: Sendable, Codable {
        public var week: String
        public var denominator: Int
        public var numerator: Int
        public var uptake: Double?
        public var lastSeasonUptake: Double?
    }

    public struct PracticeNeed: Sendable, Codable {
        public var practice: String
        public var denominator: Int
        public var numerator: Int
        public var uptake: Double?
        public var neededForTarget: Int
    }

    public struct Cohort: Sendable, Codable {
        public var id: String
        public var target: Double?
        public var weeks: [Week]
        public var projectedUptake: Double?
        public var practices: [PracticeNeed]
    }

    public var season: String
    public var cohorts: [Cohort]

    /// One practice-week-cohort figure (from `ResultsQuery.weekly`).
    public struct Row: Sendable {
        public var week: Day
        public var practice: String
        public var cohort: String
        public var denominator: Int
        public var numerator: Int
        public init(week: Day, practice: String, cohort: String, denominator: Int, numerator: Int) {
            self.week = week
            self.practice = practice
            self.cohort = cohort
            self.denominator = denominator
            self.numerator = numerator
        }
    }

    public static func build(
        season: String, seasonEnd: Day, rows: [Row], lastSeason: [Row], targets: [String: Double]
    ) -> SeasonView {
        func uptake(_ n: Int, _ d: Int) -> Double? { d > 0 ? 100 * Double(n) / Double(d) : nil }
        let cohorts = Set(rows.map(\.cohort)).sorted()
        return SeasonView(season: season, cohorts: cohorts.map { id in
            let mine = rows.filter { $0.cohort == id }
            let weeks = Set(mine.map(\.week)).sorted()
            let series = weeks.map { w -> Week in
                let r = mine.filter { $0.week == w }
                let (d, n) = (r.reduce(0) { $0 + $1.denominator }, r.reduce(0) { $0 + $1.numerator })
                // The same week a year earlier.
                let before = lastSeason.filter { $0.cohort == id && $0.week == w.adding(years: -1) }
                let last = uptake(before.reduce(0) { $0 + $1.numerator }, before.reduce(0) { $0 + $1.denominator })
                return Week(week: w.description, denominator: d, numerator: n, uptake: uptake(n, d), lastSeasonUptake: last)
            }
            var projected: Double?
            if let now = series.last?.uptake, let latest = weeks.last {
                let earlier = series.count >= 3 ? series[series.count - 3].uptake : series.first?.uptake
                let weeksBack = series.count >= 3 ? 2.0 : Double(max(1, series.count - 1))
                let rate = max(0, (now - (earlier ?? now)) / weeksBack)
                let weeksLeft = Double(max(0, seasonEnd.daysSinceEpoch - latest.daysSinceEpoch)) / 7
                projected = min(100, now + rate * weeksLeft)
            }
            let target = targets[id]
            let lastWeek = weeks.last
            let practices = mine.filter { $0.week == lastWeek }.sorted { $0.practice < $1.practice }.map { r in
                PracticeNeed(practice: r.practice, denominator: r.denominator, numerator: r.numerator, uptake: uptake(r.numerator, r.denominator),
                             neededForTarget: target.map { t in max(0, Int((t / 100 * Double(r.denominator) - Double(r.numerator)).rounded(.up))) } ?? 0)
            }
            return Cohort(id: id, target: target, weeks: series, projectedUptake: projected, practices: practices)
        })
    }
}
