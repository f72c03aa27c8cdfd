// Extract reading speed: synthetic extracts of 100 practices (1,000,000 patients by default) read
// and validated with both cores, beside `cat` of the same files to /dev/null, with peak memory.
//
//   swift run -c release extract-benchmark [--patients N] [--practices N] [--data DIR]
//
// The extracts are generated once (seeded) into DIR and reused; the measurement runs in a fresh
// process so peak memory is that of reading alone.
import Clinical
import Clusters
import Dispatch
import Extracts
import Foundation
import ReferenceData
import Synth

let arguments = Array(CommandLine.arguments.dropFirst())
nonisolated func option(_ name: String, _ fallback: String) -> String {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return fallback }
    return arguments[i + 1]
}
let patients = Int(option("--patients", "1000000"))!
let practices = Int(option("--practices", "100"))!
let data = URL(fileURLWithPath: option("--data", "/tmp/qofd-bench-extracts-\(patients)-\(practices)"))

func peakRSSMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
}

if !arguments.contains("--measure") {
    _ = try Synthesizer.benchmarkExtracts(patients: patients, practices: practices, directory: data)
    // Measure in a fresh process so that peak memory belongs to reading alone.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    p.arguments = CommandLine.arguments.dropFirst() + ["--measure", "--data", data.path]
    try p.run()
    p.waitUntilExit()
    exit(p.terminationStatus)
}

let directories = try FileManager.default.contentsOfDirectory(at: data, includingPropertiesForKeys: nil)
    .filter { ExtractLoader.isComplete($0) }.sorted { $0.path < $1.path }
let files = directories.flatMap { d in
    (try? FileManager.default.contentsOfDirectory(at: d, includingPropertiesForKeys: nil)) ?? []
}
let bytes = files.reduce(0) { $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
let mb = Double(bytes) / 1_000_000

// Reference: the speed of reading the bytes (cat to /dev/null), after the page cache is warm.
func timeCat() throws -> Double {
    let start = ContinuousClock.now
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "find '\(data.path)' -type f -name '*.csv' -o -type f -name '*.json' | xargs cat > /dev/null"]
    try p.run()
    p.waitUntilExit()
    return (ContinuousClock.now - start) / .seconds(1)
}
_ = try timeCat()
let cat = try timeCat()

let baseline = peakRSSMiB()
final class Totals: @unchecked Sendable {
    let lock = NSLock()
    var patients = 0, events = 0, medications = 0, rejected = 0
}
let totals = Totals()
let loader = ExtractLoader()
let start = ContinuousClock.now
DispatchQueue.concurrentPerform(iterations: directories.count) { i in
    let check = loader.load(directories[i])
    totals.lock.withLock {
        if let p = check.population {
            totals.patients += p.patientCount
            totals.events += p.events.count
            totals.medications += p.medications.count
        } else {
            totals.rejected += 1
        }
    }
}
let seconds = (ContinuousClock.now - start) / .seconds(1)
let peak = peakRSSMiB()

print("extracts           \(directories.count) (\(totals.rejected) rejected)")
print("patients           \(totals.patients)")
print("events             \(totals.events) (+ \(totals.medications) medications)")
print(String(format: "bytes              %.1f MB", mb))
print(String(format: "cat > /dev/null    %.3f s   %.0f MB/s", cat, mb / cat))
print(String(format: "read + validate    %.3f s   %.0f MB/s   %.0f events/s   %.0f patients/s (2 cores)", seconds, mb / seconds,
             Double(totals.events + totals.medications) / seconds, Double(totals.patients) / seconds))
print(String(format: "ratio qofd / cat   %.2f", seconds / cat))
print(String(format: "peak RSS           %.0f MiB (baseline %.0f MiB; %.1f bytes per event above baseline)", peak, baseline,
             (peak - baseline) * 1_048_576 / Double(max(1, totals.events + totals.medications))))
