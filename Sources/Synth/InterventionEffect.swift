import Clinical
import Foundation

/// A generated intervention that works: of the patients acted on, a known share get a record that moves them
/// into an indicator's numerator (a controlled blood pressure, say) soon after the day they were acted on. The
/// demo and the impact tests use it, so the page shows a real effect on generated data and the tests know the
/// answer.
public struct InterventionEffect: Sendable {
    /// The concept and values the record carries (e.g. a blood pressure of 128/78).
    public var concept: UInt64
    public var value: Float
    public var value2: Float
    /// The share of the patients acted on who get it.
    public var share: Double
    /// Days after the start the record falls on, spread evenly over this many.
    public var withinDays: Int

    public init(concept: UInt64, value: Float, value2: Float, share: Double, withinDays: Int = 42) {
        self.concept = concept
        self.value = value
        self.value2 = value2
        self.share = share
        self.withinDays = withinDays
    }

    /// The population with the record added for `share` of `patients` (rows), chosen by a seeded draw, on a day
    /// after `start`; returns the rows that got it (the known effect).
    public func apply(to population: Population, patients: [Int], from start: Day, seed: UInt64) -> (Population, Set<Int>) {
        var rng = SynthRandom(seed: seed)
        var chosen = Set<Int>()
        var extra: [Int: Event] = [:]
        var b = PopulationBuilder(population)
        let code = b.codes.intern(concept)
        for p in patients.sorted() where rng.chance(share) {
            chosen.insert(p)
            extra[p] = Event(date: start.adding(days: rng.int(1...max(1, withinDays))), code: code, value: value, value2: value2)
        }
        // Rebuild the event columns with the new records in date order.
        var events: [Event] = [], offsets: [Int32] = [0]
        events.reserveCapacity(population.events.count + extra.count)
        for p in 0..<population.patientCount {
            var mine = Array(population.events[Int(population.eventOffsets[p])..<Int(population.eventOffsets[p + 1])])
            if let e = extra[p] {
                mine.append(e)
                mine.sort { $0.date < $1.date }
            }
            events += mine
            offsets.append(Int32(events.count))
        }
        b.events = events
        b.eventOffsets = offsets
        return (try! b.build(), chosen)  // the same patients with one more record each: it fits together
    }
}
