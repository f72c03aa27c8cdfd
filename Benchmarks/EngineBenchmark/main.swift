// Rules-engine speed: the full qof-2025-26 ruleset over synthetic practices (1,000,000 patients in
// 100 practices by default), evaluation alone and read + evaluate, on both cores.
//
//   swift run -c release engine-benchmark [--patients N] [--practices N] [--data DIR] [--repeat N]
//
// With --repeat N, read and evaluation are each timed N times and the fastest is reported (a noisy
// machine only ever makes a run slower).
//
// Uses the same seeded extracts as extract-benchmark (generated once into DIR and reused).
import Clinical
import Clusters
import Dispatch
import Extracts
import Foundation
import ReferenceData
import RulesEngine
import Synth

let arguments = Array(CommandLine.arguments.dropFirst())
nonisolated func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let patients = Int(option("--patients", "1000000"))!
let practices = Int(option("--practices", "100"))!
let rulesetID = option("--ruleset", "qof-2025-26")
let repeats = max(1, Int(option("--repeat", "1"))!)
let data = URL(fileURLWithPath: option("--data", "/tmp/qofd-bench-extracts-\(patients)-\(practices)"))

_ = try Synthesizer.benchmarkExtracts(patients: patients, practices: practices, directory: data)
let directories = try FileManager.default.contentsOfDirectory(at: data, includingPropertiesForKeys: nil)
    .filter { ExtractLoader.isComplete($0) }.sorted { $0.path < $1.path }
let library = try ClusterLibrary.bundled()
let ruleset = try RulesetLoader(library: library).loadAll()[rulesetID]!
let engine = Engine(try CompiledRuleset(ruleset, library: library))
let loader = ExtractLoader()

final class Box<T>: @unchecked Sendable {
    var items: [T?]
    let lock = NSLock()
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
}

// Phase 1: read + validate (kept in memory for phase 2).
let populations = Box<Population>(directories.count)
var read = Double.infinity
var start = ContinuousClock.now
for _ in 0..<repeats {
    start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: directories.count) { i in
        let p = loader.load(directories[i]).population
        populations.lock.withLock { populations.items[i] = p }
    }
    read = min(read, (ContinuousClock.now - start) / .seconds(1))
}
let loaded = populations.items.compactMap { $0 }
let events = loaded.reduce(0) { $0 + $1.events.count + $1.medications.count }

// Phase 2: evaluation alone.
let counts = Box<Int>(loaded.count)
var evaluate = Double.infinity
for _ in 0..<repeats {
    start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: loaded.count) { i in
        let r = engine.evaluate(loaded[i])
        counts.lock.withLock { counts.items[i] = r.listSize }
    }
    evaluate = min(evaluate, (ContinuousClock.now - start) / .seconds(1))
}
let listed = counts.items.compactMap { $0 }.reduce(0, +)

// Phase 3: read + evaluate streamed, as the daemon does it.
start = ContinuousClock.now
DispatchQueue.concurrentPerform(iterations: directories.count) { i in
    if let p = loader.load(directories[i]).population { _ = engine.evaluate(p) }
}
let both = (ContinuousClock.now - start) / .seconds(1)

print("ruleset            \(rulesetID): \(ruleset.registers.count) registers, \(ruleset.indicators.count) indicators, \(ruleset.fields.count) fields")
print("practices          \(loaded.count), patients \(loaded.reduce(0) { $0 + $1.patientCount }) (\(listed) registered and alive), records \(events)")
print(String(format: "read + validate    %.3f s", read))
print(String(format: "evaluate only      %.3f s   %.0f patients/s (2 cores)", evaluate, Double(patients) / evaluate))
print(String(format: "read + evaluate    %.3f s   %.0f patients/s (2 cores)", both, Double(patients) / both))
print(String(format: "evaluation adds    %.0f%% to the read time", 100 * evaluate / read))
