import Clusters
import Foundation
import ReferenceData

extension Synthesizer {
    /// The benchmarks' seeded extracts (seed 2026, one PCN per 8 practices): generated once into
    /// `/tmp/qofd-bench-extracts-<patients>-<practices>` (or `directory`) and reused while a `complete`
    /// marker says the set is whole. Every benchmark reads the same files.
    public static func benchmarkExtracts(patients: Int, practices: Int, directory: URL? = nil) throws -> URL {
        let data = directory ?? URL(fileURLWithPath: "/tmp/qofd-bench-extracts-\(patients)-\(practices)")
        guard !FileManager.default.fileExists(atPath: data.appending(path: "complete").path) else { return data }
        print("generating \(patients) patients in \(practices) practices into \(data.path) …")
        var o = Options()
        o.seed = 2026
        o.practices = practices
        o.pcns = max(1, practices / 8)
        o.patients = patients
        try? FileManager.default.removeItem(at: data)
        _ = try Synthesizer(library: try ClusterLibrary.bundled(), deprivation: try Deprivation.imd2025()).write(o, to: data)
        try Data().write(to: data.appending(path: "complete"))
        return data
    }
}
