/// How to wait between attempts to reach a database that is down: exponential, capped, with jitter.
public struct Backoff: Sendable, Hashable {
    /// Delay before the second attempt, in seconds.
    public var initial: Double
    /// Longest delay between attempts, in seconds.
    public var maximum: Double
    /// Attempts in all, including the first; `Int.max` to keep trying.
    public var maxAttempts: Int

    public init(initial: Double = 0.2, maximum: Double = 30, maxAttempts: Int = .max) {
        self.initial = initial
        self.maximum = maximum
        self.maxAttempts = maxAttempts
    }

    /// The delay after failed attempt number `attempt` (0-based): initial × 2^attempt, capped, ±20 %.
    public func delay(afterAttempt attempt: Int) -> Double {
        let base = min(maximum, initial * Double(1 << min(attempt, 30)))
        return base * Double.random(in: 0.8...1.2)
    }
}
