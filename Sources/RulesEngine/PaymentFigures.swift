// The payment figures a run computes, beside its counts (`PracticeResult`): plain values every layer can
// carry and store. How they are worked out (thresholds, list-size and prevalence factors, national figures)
// is the Payments module's business.

/// What one indicator earns a practice, what is still available, and what it would take to earn more.
public struct IndicatorPayment: Sendable, Codable, Hashable {
    public var id: String
    public var group: String
    public var achievement: Double?
    public var points: Double
    public var maxPoints: Double
    /// False when the group's register is empty: its points are removed from the practice's maximum.
    public var available: Bool
    public var listSizeFactor: Double
    /// Practice prevalence ÷ national prevalence; 1 for unweighted groups.
    public var prevalenceFactor: Double
    public var pounds: Double
    public var poundsAvailable: Double
    /// Pounds between today's achievement and the upper threshold (0 when the figure cannot be computed:
    /// a 0 % made by missing code lists is not money at stake).
    public var poundsAtStake: Double
    /// More patients reaching the numerator needed to gain the next point (nil at maximum or with no denominator).
    public var patientsForNextPoint: Int?
    /// False when the code lists behind the figure are missing (see `Completeness`).
    public var computable: Bool = true

    public init(id: String, group: String, achievement: Double?, points: Double, maxPoints: Double, available: Bool, listSizeFactor: Double,
                prevalenceFactor: Double, pounds: Double, poundsAvailable: Double, poundsAtStake: Double, patientsForNextPoint: Int?,
                computable: Bool = true) {
        self.id = id
        self.group = group
        self.achievement = achievement
        self.points = points
        self.maxPoints = maxPoints
        self.available = available
        self.listSizeFactor = listSizeFactor
        self.prevalenceFactor = prevalenceFactor
        self.pounds = pounds
        self.poundsAvailable = poundsAvailable
        self.poundsAtStake = poundsAtStake
        self.patientsForNextPoint = patientsForNextPoint
        self.computable = computable
    }
}

/// A practice's QOF points and pounds for one ruleset and achievement date.
public struct PracticePayment: Sendable, Codable {
    public var ods: String
    public var year: String
    public var listSize: Int
    public var pointsAchieved: Double
    /// Maximum points after removing groups with an empty register.
    public var pointsAvailable: Double
    public var pounds: Double
    public var poundsAvailable: Double
    public var poundsAtStake: Double
    /// What remains to earn on indicators that cannot be computed (missing code lists): not at stake, not known.
    public var poundsNotAssessed: Double = 0
    /// Paid through the year in advance: aspiration % of last year's achievement (when known).
    public var aspiration: Double?
    /// Year-end pounds less the aspiration already paid.
    public var balance: Double?
    public var indicators: [IndicatorPayment]
    /// National figures used that are not yet verified.
    public var unverifiedFigures: [String]

    public init(ods: String, year: String, listSize: Int, pointsAchieved: Double, pointsAvailable: Double, pounds: Double, poundsAvailable: Double,
                poundsAtStake: Double, poundsNotAssessed: Double = 0, aspiration: Double? = nil, balance: Double? = nil,
                indicators: [IndicatorPayment], unverifiedFigures: [String]) {
        self.ods = ods
        self.year = year
        self.listSize = listSize
        self.pointsAchieved = pointsAchieved
        self.pointsAvailable = pointsAvailable
        self.pounds = pounds
        self.poundsAvailable = poundsAvailable
        self.poundsAtStake = poundsAtStake
        self.poundsNotAssessed = poundsNotAssessed
        self.aspiration = aspiration
        self.balance = balance
        self.indicators = indicators
        self.unverifiedFigures = unverifiedFigures
    }
}
