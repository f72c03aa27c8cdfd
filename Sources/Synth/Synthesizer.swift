import Clinical
import Clusters
import Dispatch
import Extracts
import Foundation
import Synchronization
import ReferenceData

/// Generates synthetic extracts for a set of practices grouped into PCNs: seeded and deterministic,
/// from a single 2,000-patient practice up to an ICB-scale million patients.
public struct Synthesizer: Sendable {
    public struct Options: Sendable {
        public var seed: UInt64 = 1
        public var practices: Int = 3
        public var pcns: Int = 1
        /// Total patients across all practices (list sizes vary around the mean).
        public var patients: Int = 30_000
        /// The extract's data-to date (the achievement date).
        public var dataTo: Day = Day(year: 2026, month: 3, day: 31)!
        public var encoding: Manifest.Encoding = .csv
        public var system: String = "EMIS Web"
        public init() {}
    }

    /// One extract written.
    public struct Written: Sendable {
        public let directory: URL
        public let practice: PracticeInfo
        public let patients: Int
    }

    let library: ClusterLibrary
    let lsoas: [String]

    public init(library: ClusterLibrary, deprivation: Deprivation? = nil) {
        self.library = library
        self.lsoas = deprivation.map { $0.areas.keys.sorted() } ?? []
    }

    /// The practices and PCNs the options describe: ODS codes, names and list sizes.
    public static func practices(_ o: Options) -> [(PracticeInfo, Int)] {
        var r = SynthRandom.derived(o.seed, 0)
        let mean = Double(o.patients) / Double(max(1, o.practices))
        var sizes = (0..<o.practices).map { _ in max(50.0, mean * (0.7 + 0.6 * r.unit())) }
        let scale = Double(o.patients) / sizes.reduce(0, +)
        sizes = sizes.map { $0 * scale }
        var rounded = sizes.map { Int($0.rounded()) }
        if let last = rounded.indices.last { rounded[last] += o.patients - rounded.reduce(0, +) }
        let names = ["Riverside", "Parkview", "Market Street", "Old Mill", "Station Road", "Castle", "Meadow", "Church Lane",
                     "Abbey", "Harbour", "Hillside", "Orchard"]
        return (0..<o.practices).map { i in
            let pcn = i % max(1, o.pcns)
            let info = PracticeInfo(
                ods: "Y" + String(format: "%05d", 10_000 + Int(o.seed % 50_000) + i),
                name: "\(names[i % names.count]) Surgery\(i >= names.count ? " \(i / names.count + 1)" : "")",
                pcnODS: "U" + String(format: "%05d", 10_000 + Int(o.seed % 50_000) + pcn),
                pcnName: "\(["North", "South", "East", "West", "Central"][pcn % 5]) PCN\(pcn >= 5 ? " \(pcn / 5 + 1)" : "")")
            return (info, rounded[i])
        }
    }

    /// Writes one extract directory per practice under `directory` (named `<ODS>-<date>`), using
    /// both cores. Returns what was written, in practice order.
    /// - Parameter progress: told after each practice is written (practices done, of how many).
    public func write(_ o: Options, to directory: URL, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [Written] {
        let plan = Self.practices(o)
        var firstNHS = [Int](repeating: 0, count: plan.count)
        for i in 1..<max(1, plan.count) { firstNHS[i] = firstNHS[i - 1] + plan[i - 1].1 }
        let starts = firstNHS
        let generator = PracticeGenerator(library: library, lsoaPool: lsoas)
        let writer = ExtractWriter(encoding: o.encoding)
        let results = ResultSlots<Result<Written, any Error>>(count: plan.count)
        DispatchQueue.concurrentPerform(iterations: plan.count) { i in
            let (info, size) = plan[i]
            let dir = directory.appending(path: "\(info.ods)-\(o.dataTo)")
            results[i] = Result {
                let patients = generator.generate(
                    practice: info.ods, count: size, dataTo: o.dataTo, seed: o.seed &+ UInt64(i) &* 7919, firstNHSIndex: starts[i])
                _ = try writer.write(patients, practice: info, dataTo: o.dataTo, system: o.system, to: dir)
                return Written(directory: dir, practice: info, patients: size)
            }
            progress?(results.filled, plan.count)
        }
        return try (0..<plan.count).map { try results[$0]!.get() }
    }
}

/// Per-index result slots filled from `concurrentPerform` (each index written exactly once).
final class ResultSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    subscript(i: Int) -> T? {
        get { slots.withLock { $0[i] } }
        set { slots.withLock { $0[i] = newValue } }
    }
    /// Slots written so far.
    var filled: Int { slots.withLock { $0.reduce(0) { $0 + ($1 == nil ? 0 : 1) } } }
}
