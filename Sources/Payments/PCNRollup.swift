/// A PCN's totals over its member practices for one indicator, and where each practice stands.
public struct PCNIndicator: Sendable, Codable, Hashable {
    public struct Standing: Sendable, Codable, Hashable {
        public var practice: String
        public var denominator: Int
        public var numerator: Int
        public var achievement: Double?
        public var pounds: Double?
        /// 1 = highest achievement in the PCN.
        public var rank: Int
    }

    public var indicator: String
    public var registerSize: Int
    public var denominator: Int
    public var numerator: Int
    /// Achievement of the PCN as a whole (summed numerators over summed denominators).
    public var achievement: Double?
    public var pounds: Double
    /// False when any member's figure rests on missing code lists: the PCN figure cannot be computed either.
    public var computable: Bool
    public var practices: [Standing]
}

/// Sums member practices' results into PCN totals (numerators and denominators summed, as the
/// Network Contract DES does) and ranks the practices within the PCN.
public enum PCNRollup {
    /// One practice's figures for one indicator.
    public struct Input: Sendable {
        public var practice: String
        public var indicator: String
        public var registerSize: Int
        public var denominator: Int
        public var numerator: Int
        public var pounds: Double?
        public var computable: Bool
        public init(practice: String, indicator: String, registerSize: Int, denominator: Int, numerator: Int, pounds: Double?,
                    computable: Bool = true) {
            self.computable = computable
            self.practice = practice
            self.indicator = indicator
            self.registerSize = registerSize
            self.denominator = denominator
            self.numerator = numerator
            self.pounds = pounds
        }
    }

    public static func rollUp(_ inputs: [Input]) -> [PCNIndicator] {
        Dictionary(grouping: inputs, by: \.indicator).keys.sorted().map { id in
            let rows = inputs.filter { $0.indicator == id }
            let den = rows.reduce(0) { $0 + $1.denominator }
            let num = rows.reduce(0) { $0 + $1.numerator }
            func achievement(_ n: Int, _ d: Int) -> Double? { d > 0 ? 100 * Double(n) / Double(d) : nil }
            let ranked = rows.sorted { (achievement($0.numerator, $0.denominator) ?? -1) > (achievement($1.numerator, $1.denominator) ?? -1) }
            let standings = ranked.enumerated().map { i, r in
                PCNIndicator.Standing(practice: r.practice, denominator: r.denominator, numerator: r.numerator,
                                      achievement: achievement(r.numerator, r.denominator), pounds: r.pounds, rank: i + 1)
            }
            return PCNIndicator(indicator: id, registerSize: rows.reduce(0) { $0 + $1.registerSize }, denominator: den, numerator: num,
                                achievement: achievement(num, den), pounds: rows.reduce(0) { $0 + ($1.pounds ?? 0) },
                                computable: rows.allSatisfy(\.computable),
                                practices: standings.sorted { $0.practice < $1.practice })
        }
    }
}
