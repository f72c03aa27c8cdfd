// ICB-scale web benchmark: every page of the web view, timed against an ICB's year of stored history.
//
//   swift build -c release && swift run -c release web-benchmark [--practices 200] [--patients 10000] [--weeks 52]
//       [--sample 40] [--repeat 3] [--dir /tmp/qofd-web-benchmark] [--results Benchmarks/results]
//
// Generates (once; reused while --dir holds a complete one) `practices` synthetic practices of about
// `patients` patients, each sending `weeks` weekly extracts, each extract evaluated by all five shipped
// rulesets and stored as the daemon stores it (see History.swift), in a private PostgreSQL cluster. Then it
// starts the real `qofd serve` on that database, signs in as a commissioner with patient access, and for a
// seeded sample of practices opens every page a user opens: home, practice dashboards (QOF and flu), the
// indicator pages with the longest worklists, their CSV export, a patient explanation, the practice's and
// its PCN's inequalities, the PCN page. Each page is opened `repeat` times; the first opening of a
// practice's patient-level page is cold (its extract read from the archive and evaluated). Prints p50, p95
// and p99 per page, the database size per practice-year, and writes Benchmarks/results/web-DATE-COMMIT.json.
import Clinical
import Foundation
import Postgres
import PostgresCluster
import Storage
import Synchronization
import Synth

#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } ?? fallback
}
let practices = Int(option("--practices", "200"))!
let patients = Int(option("--patients", "10000"))!
let weeks = Int(option("--weeks", "52"))!
let sample = min(practices, Int(option("--sample", "40"))!)
let repeats = max(1, Int(option("--repeat", "3"))!)
let directory = URL(fileURLWithPath: option("--dir", "/tmp/qofd-web-benchmark-\(practices)-\(patients)-\(weeks)"))
let results = URL(fileURLWithPath: option("--results", URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appending(path: "results").path))
@Sendable func log(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
let qofd = me.deletingLastPathComponent().appending(path: "qofd")
guard FileManager.default.isExecutableFile(atPath: qofd.path) else {
    log("web-benchmark: no qofd next to \(me.path); build it first: swift build -c release")
    exit(2)
}
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
chmod(directory.path, 0o755)  // the server may run as postgres
let cluster = try PrivateCluster(directory: directory.appending(path: "pg"))
_ = try cluster.start()
try await cluster.createDatabaseIfMissing()
let conninfo = cluster.conninfo()
let history = History(directory: directory, practices: practices, patientsPerPractice: patients, weeks: weeks)
let daemonProcess = Mutex<pid_t>(0)
func finish(_ code: Int32) -> Never {
    let daemon = daemonProcess.withLock { $0 }
    if daemon > 0 {
        kill(daemon, SIGTERM)
        var status: Int32 = 0
        waitpid(daemon, &status, 0)
    }
    try? cluster.stop()
    exit(code)
}
let generationSeconds: Double
do { generationSeconds = try await history.generate(conninfo: conninfo, log: log) } catch {
    log("web-benchmark: generating the history failed: \(error)")
    finish(1)
}

// What the history holds, and how much room it takes.
let conn = try await PostgresConnection.connect(conninfo)
let totalBytes = try await DatabaseSize.total(in: conn)
let tables = try await DatabaseSize.tables(in: conn)
let organisations = try await PracticeHistory.practices(inPCN: nil, in: conn)
var pages = PagePlan()
var rng = SynthRandom(seed: 42)
let chosen = organisations.shuffled(using: &rng).prefix(sample)
for o in chosen { pages.add(practice: o.ods, pcn: o.pcn, worklists: try await Worklists.longest(practice: o.ods, in: conn)) }
await conn.close()
let archiveBytes = Int64((FileManager.default.enumerator(at: history.archive, includingPropertiesForKeys: [.fileSizeKey])?
    .compactMap { ($0 as? URL).flatMap { try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize } }.reduce(0, +)) ?? 0)
let runs = tables.first { $0.name == "computation_run" }?.rows ?? 0
log(String(format: "history: %d practices, %d runs; database %.1f GiB, %.1f MiB per practice-year; latest extracts archived: %.0f MiB",
           organisations.count, runs, Double(totalBytes) / 1_073_741_824, Double(totalBytes) / Double(max(1, organisations.count)) / 1_048_576,
           Double(archiveBytes) / 1_048_576))
for t in tables.prefix(6) { log(String(format: "  %-24@ %8.1f MiB %12d rows", t.name, Double(t.bytes) / 1_048_576, t.rows)) }

// The real daemon on that database.
let port = freePort()
for d in ["inbox", "quarantine"] { try FileManager.default.createDirectory(at: directory.appending(path: d), withIntermediateDirectories: true) }
let config = directory.appending(path: "qofd.yaml")
try Data("""
    database_url: "\(conninfo)"
    state_dir: \(directory.path)/state
    inbox: \(directory.path)/inbox
    archive: \(history.archive.path)
    quarantine: \(directory.path)/quarantine
    poll_interval: 600
    log_level: warning
    listen: 127.0.0.1:\(port)
    rulesets: [qof-2025-26, qof-2024-25, flu-2025-26, flu-2024-25, shingles-2025-26]
    """.utf8).write(to: config)
let daemon = try spawn(qofd.path, ["serve", "--config", config.path], log: directory.appending(path: "serve.log"))
daemonProcess.withLock { $0 = daemon }
let client = HTTPClient(port: port)
var up = false
var exited = false
for _ in 0..<300 where !up && !exited {
    up = (try? client.get("/healthz").status) == 200
    var status: Int32 = 0
    exited = waitpid(daemon, &status, WNOHANG) == daemon
    if !up { usleep(100_000) }
}
if exited { daemonProcess.withLock { $0 = 0 } }
// The daemon's start-up maintenance (reading every practice's latest extract to recompute what changed) runs
// once after its first poll; pages are timed in the steady state after it, as users meet them all day.
var maintained = false
for _ in 0..<1_200 where up && !maintained {
    maintained = (try? client.get("/metrics").body)?.split(separator: "\n")
        .contains { $0.hasPrefix("qofd_maintenance_last_finished_timestamp_seconds ") } ?? false
    if !maintained { usleep(250_000) }
}
guard up else { log("web-benchmark: qofd serve did not answer; see \(directory.path)/serve.log"); finish(1) }
do {
    try signIn(client, user: "bench", password: History.password)
    let timings = try pages.visit(client, repeats: repeats, log: log)
    let report = Report(timings: timings, totalBytes: totalBytes, archiveBytes: archiveBytes, practices: organisations.count, runs: runs,
                        tables: tables, generationSeconds: generationSeconds, settings: (practices, patients, weeks, sample, repeats),
                        longestWorklist: pages.longestWorklist)
    report.print(log)
    try report.write(to: results)
} catch {
    log("web-benchmark: \(error)")
    finish(1)
}
finish(0)
