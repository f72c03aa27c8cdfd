import Foundation

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same population on every
/// machine and every run.
package struct SynthRandom: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    package mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    package mutating func chance(_ p: Double) -> Bool { unit() < p }

    package mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// Normal by Box-Muller.
    package mutating func normal(mean: Double, sd: Double) -> Double {
        let u1 = max(unit(), 1e-12)
        let u2 = unit()
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    package mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

    /// Derives an independent generator (per practice, per patient).
    package static func derived(_ seed: UInt64, _ salt: UInt64) -> SynthRandom {
        var r = SynthRandom(seed: seed ^ (salt &* 0xD6E8_FEB8_6659_FD93))
        _ = r.next()
        return r
    }
}
