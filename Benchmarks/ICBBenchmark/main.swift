// ICB-scale benchmark: qofd beside `cat`, DuckDB and PostgreSQL on the same synthetic extracts.
//
//   swift run -c release icb-benchmark [--sizes 10000,100000,1000000] [--results Benchmarks/results] [--repeat N] [--only e2e]
//
// For each size (about 10,000 patients per practice; seeded, generated once under /tmp and reused) it
// measures, each in its own child process (time and peak resident memory from the kernel):
//   qofd   read + validate; evaluate qof-2025-26 and flu-2025-26; store in PostgreSQL (COPY);
//          end to end as the daemon does it (claim, read, evaluate, store, archive, reports; 2 workers)
//   cat    the CSV files to /dev/null
//   DuckDB indicators.sql (HYP008, DM020, BP002, FLU_65PLUS) over the same CSV files (PyPI duckdb)
//   PostgreSQL the same SQL after COPY of the same files (a private cluster)
// The counts of qofd, DuckDB and PostgreSQL must agree: the benchmark fails loudly when they do not.
// Writes a results file (machine, commit, figures) and prints a table with the ratios.
// `--repeat N` runs qofd's phases, cat and DuckDB N times each and keeps each one's fastest run (a noisy,
// shared machine only ever makes a run slower); the slow PostgreSQL reference runs once.
// `--only e2e` (or read, evaluate, store) runs just those qofd phases, without references or results file: for profiling.
// ICB_NO_REPORTS=1 in the environment leaves report writing out of the end-to-end phase, to see its share.
import Clinical
import Clusters
import Foundation
import Logging
import Postgres
import PostgresCluster
import ReferenceData
import RulesEngine
import Storage
import Synth

#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

if arguments.first == "phase" {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = .warning
        return h
    }
    let result = try await Phase.run(arguments[1], data: URL(fileURLWithPath: option("--data")!), conninfo: option("--conninfo"))
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}

let repeats = max(1, Int(option("--repeat") ?? "1") ?? 1)
/// The fastest of `repeats` runs of `body`, by the seconds it reports.
func fastest<T>(_ body: () throws -> T, seconds: (T) -> Double) rethrows -> T {
    var best = try body()
    for _ in 1..<repeats {
        let next = try body()
        if seconds(next) < seconds(best) { best = next }
    }
    return best
}
let sizes = (option("--sizes") ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let repository = source.deletingLastPathComponent().deletingLastPathComponent()
let resultsDirectory = URL(fileURLWithPath: option("--results") ?? repository.appending(path: "Benchmarks/results").path)
let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
let library = try ClusterLibrary.bundled()
let compiled = try Phase.compiled(library)

// The clusters the SQL names, resolved exactly as the rulesets resolve them (stand-ins included).
let clusterNames = [
    "BP_COD", "HOMEBP_COD", "ABPM_COD", "SYSBP_COD", "DIABP_COD", "IFCCHBAM_COD", "MILDFRAIL_COD", "MODFRAIL_COD", "SEVFRAIL_COD",
    "HYPINVITE_COD", "DMINVITE_COD", "HYP_COD", "HYPRES_COD", "HTMAX_COD", "HYPPCAPU_COD", "BPDEC_COD", "HBPMDEC_COD", "HYPPCADEC_COD",
    "DM_COD", "DMRES_COD", "SERFRUC_COD", "DMMAX_COD", "DMPCAPU_COD", "BLDTESTDEC_COD", "DMPCADEC_COD",
    "qofd-flu-given-by-practice", "qofd-flu-given-elsewhere",
]
let work = URL(fileURLWithPath: "/tmp/qofd-icb-\(getpid())")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
var clusterCSV = "cluster,code\n"
for name in clusterNames {
    guard let concepts = compiled.lazy.compactMap({ $0.concepts(ofCluster: name) }).first else { throw BenchmarkError("no cluster \(name)") }
    for c in concepts.sorted() { clusterCSV += "\(name),\(c)\n" }
}
let clustersFile = work.appending(path: "clusters.csv")
try Data(clusterCSV.utf8).write(to: clustersFile)
_ = chmod(work.path, 0o755)
_ = chmod(clustersFile.path, 0o644)

// A private PostgreSQL server for qofd's store and for the SQL reference.
let cluster = try PrivateCluster(directory: work.appending(path: "pg"))
_ = try cluster.start()
defer { try? cluster.stop() }
/// Stops the server and removes the work directory, then exits (`exit` skips the `defer`s above).
func finish(_ code: Int32) -> Never {
    try? cluster.stop()
    try? FileManager.default.removeItem(at: work)
    exit(code)
}
let admin = try await PostgresConnection.connect(cluster.conninfo(database: "postgres"))

/// A new, empty database, with the server's and the kernel's dirty pages from earlier phases written out
/// first, so that a phase never pays for the writes of the one before it.
func freshDatabase(_ name: String) async throws -> String {
    try await admin.executeScript("DROP DATABASE IF EXISTS \(name)")
    try await admin.executeScript("CREATE DATABASE \(name)")
    try await admin.executeScript("CHECKPOINT")
    sync()
    return cluster.conninfo(database: name)
}

/// Vacuums and analyses a database a phase has just filled, so that autovacuum has nothing to do in it later.
func vacuumed(_ conninfo: String) async throws {
    let conn = try await PostgresConnection.connect(conninfo)
    try await conn.executeScript("VACUUM (ANALYZE)")
    await conn.close()
    try await admin.executeScript("CHECKPOINT")
    sync()
}

func migrated(_ conninfo: String) async throws {
    let conn = try await PostgresConnection.connect(conninfo)
    try await Migrator().migrate(on: conn)
    await conn.close()
}

func dataset(_ patients: Int) throws -> (URL, [URL], Int) {
    let data = try Synthesizer.benchmarkExtracts(patients: patients, practices: max(1, patients / 10_000))
    let files = try FileManager.default.subpathsOfDirectory(atPath: data.path).filter { $0.hasSuffix(".csv") }.map { data.appending(path: $0) }
    let bytes = try files.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int ?? 0) }
    return (data, files, bytes)
}

var report: [[String: Any]] = []
var mismatches: [String] = []
for size in sizes {
    let (data, files, bytes) = try dataset(size)
    print("\n== \(size) patients: \(files.count) files, \(bytes / 1_000_000) MB")
    // Warm the page cache once so every contender reads from memory.
    _ = try spawn(["/bin/sh", "-c", "cat " + files.map { quoted($0.path) }.joined(separator: " ") + " > /dev/null"])
    let cat = try fastest({ try spawn(["/bin/sh", "-c", "cat " + files.map { quoted($0.path) }.joined(separator: " ") + " > /dev/null"]) },
                          seconds: \.seconds)

    func phase(_ name: String, data: URL, conninfo: String? = nil) throws -> (ChildResult, [String: Any]) {
        let r = try spawn([me, "phase", name, "--data", data.path] + (conninfo.map { ["--conninfo", $0] } ?? []))
        guard r.status == 0 else { throw BenchmarkError("phase \(name) failed (\(r.status)): \(r.output.suffix(500))") }
        return (r, try lastJSON(r.output))
    }
    func seconds(_ o: [String: Any]) -> Double { o["seconds"] as? Double ?? .nan }
    if let only = option("--only")?.split(separator: ",").map(String.init) {
        for name in only {
            var conninfo: String?
            if ["store", "e2e"].contains(name) {
                conninfo = try await freshDatabase("icb_only")
                try await migrated(conninfo!)
            }
            var target = data
            if name == "e2e" {
                target = work.appending(path: "e2e/inbox")
                try? FileManager.default.removeItem(at: work.appending(path: "e2e"))
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                _ = try spawn(["/bin/cp", "-al", data.path, target.path])
            }
            let (run, out) = try phase(name, data: target, conninfo: conninfo)
            print(String(format: "qofd %@: %.2f s (process %.2f s, peak %.0f MiB%@)", name, out["seconds"] as? Double ?? .nan, run.seconds, run.peakMiB,
                         (out["cpuSeconds"] as? Double).map { String(format: ", machine CPU %.2f s", $0) } ?? ""))
        }
        continue
    }
    let (readRun, read) = try fastest({ try phase("read", data: data) }, seconds: { seconds($0.1) })
    let (evalRun, evaluated) = try fastest({ try phase("evaluate", data: data) }, seconds: { seconds($0.1) })
    var storeTimes: [(ChildResult, [String: Any])] = []
    var e2eTimes: [(ChildResult, [String: Any])] = []
    // What the timed phases leave behind is removed only once they are all over: on a journal-less ext4 (this
    // machine's) every new file or directory is checked against the inodes freed in the last minute, so
    // deleting thousands of files just before a phase slows every file that phase creates.
    var leftovers: [String] = []
    for i in 1...repeats {
        // Each run into a fresh database; end to end on a hard-linked copy (the pipeline archives what it processes).
        let storeDB = try await freshDatabase("icb_store_\(i)")
        try await migrated(storeDB)
        storeTimes.append(try phase("store", data: data, conninfo: storeDB))
        // Vacuumed at once, so that the server's background work on it (autovacuum) cannot slow the next phase.
        try await vacuumed(storeDB)
        let inbox = work.appending(path: "e2e-\(i)/inbox")
        try FileManager.default.createDirectory(at: inbox.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try spawn(["/bin/cp", "-al", data.path, inbox.path])
        let e2eDB = try await freshDatabase("icb_e2e_\(i)")
        try await migrated(e2eDB)
        e2eTimes.append(try phase("e2e", data: inbox, conninfo: e2eDB))
        try await vacuumed(e2eDB)
        leftovers += ["icb_store_\(i)", "icb_e2e_\(i)"]
    }
    let (storeRun, stored) = storeTimes.min { seconds($0.1) < seconds($1.1) }!
    let (e2eRun, e2e) = e2eTimes.min { seconds($0.1) < seconds($1.1) }!

    // DuckDB over the same files.
    let duck = try fastest({
        try spawn(["python3", source.appending(path: "duckdb_counts.py").path, data.path, clustersFile.path,
                   source.appending(path: "indicators.sql").path, "2"])
    }, seconds: { r in (try? lastJSON(r.output))?["seconds"] as? Double ?? .infinity })
    guard duck.status == 0 else { throw BenchmarkError("DuckDB failed: \(duck.output.suffix(500))") }
    let duckResult = try lastJSON(duck.output)

    // PostgreSQL: COPY the same files, then the same SQL.
    let refDB = try await freshDatabase("icb_sql")
    let ref = try await PostgresConnection.connect(refDB)
    try await ref.executeScript("""
        CREATE UNLOGGED TABLE patients (patient_id text, nhs_number text, date_of_birth date, sex text, date_of_death date, lsoa text, ethnicity text);
        CREATE UNLOGGED TABLE registrations (patient_id text, start_date date, end_date date);
        CREATE UNLOGGED TABLE events (patient_id text, date date, code bigint, value float8, value2 float8, unit text);
        CREATE UNLOGGED TABLE clusters (cluster text, code bigint);
        """)
    var start = ContinuousClock.now
    for f in files where ["patients.csv", "registrations.csv", "events.csv"].contains(f.lastPathComponent) {
        try await ref.executeScript("COPY \(f.lastPathComponent.dropLast(4)) FROM '\(f.path)' WITH (FORMAT csv, HEADER true)")
    }
    try await ref.executeScript("COPY clusters FROM '\(clustersFile.path)' WITH (FORMAT csv, HEADER true); ANALYZE")
    let pgLoad = (ContinuousClock.now - start) / .seconds(1)
    start = ContinuousClock.now
    let sql = try String(contentsOf: source.appending(path: "indicators.sql"), encoding: .utf8)
    let pgRows = try await ref.query(PostgresQuery(sql))
    let pgQuery = (ContinuousClock.now - start) / .seconds(1)
    var pgCounts: [String: [String: Int]] = [:]
    for r in pgRows {
        pgCounts[try r.decode(0, as: String.self)] = ["register": try r.decode(1, as: Int.self), "denominator": try r.decode(2, as: Int.self),
                                                       "numerator": try r.decode(3, as: Int.self)]
    }
    await ref.close()
    try await admin.executeScript("DROP DATABASE icb_sql")
    for name in leftovers { try await admin.executeScript("DROP DATABASE \(name)") }
    for i in 1...repeats { try? FileManager.default.removeItem(at: work.appending(path: "e2e-\(i)")) }

    // The differential check: every count the same in qofd, DuckDB and PostgreSQL.
    let qofdCounts = evaluated["counts"] as? [String: [String: Int]] ?? [:]
    let duckCounts = duckResult["counts"] as? [String: [String: Int]] ?? [:]
    for (_, id) in Phase.indicators {
        for key in ["denominator", "numerator"] + (["HYP008", "DM020"].contains(id) ? ["register"] : []) {
            let q = qofdCounts[id]?[key], d = duckCounts[id]?[key], p = pgCounts[id]?[key]
            if q != d || q != p { mismatches.append("\(size) patients, \(id) \(key): qofd \(q.map(String.init) ?? "-"), DuckDB \(d.map(String.init) ?? "-"), PostgreSQL \(p.map(String.init) ?? "-")") }
        }
    }
    let patients = read["patients"] as? Int ?? 0, records = read["records"] as? Int ?? 0
    let row: [String: Any] = [
        "patients": patients, "practices": files.count / 4, "records": records, "bytes": bytes,
        "read": ["seconds": seconds(read), "peakMiB": readRun.peakMiB],
        "evaluate": ["seconds": seconds(evaluated), "peakMiB": evalRun.peakMiB, "rulesets": ["qof-2025-26", "flu-2025-26"]],
        "store": ["seconds": seconds(stored), "peakMiB": storeRun.peakMiB],
        "endToEnd": ["seconds": seconds(e2e), "peakMiB": e2eRun.peakMiB, "processWallSeconds": e2eRun.seconds,
                     "machineCPUSeconds": e2e["cpuSeconds"] as? Double ?? .nan],
        "cat": ["seconds": cat.seconds, "peakMiB": cat.peakMiB],
        "duckdb": ["seconds": duckResult["seconds"] as? Double ?? .nan, "loadSeconds": duckResult["load_seconds"] as? Double ?? .nan,
                   "querySeconds": duckResult["query_seconds"] as? Double ?? .nan, "peakMiB": duck.peakMiB],
        "postgresql": ["seconds": pgLoad + pgQuery, "loadSeconds": pgLoad, "querySeconds": pgQuery],
        "counts": qofdCounts,
    ]
    report.append(row)
    let e = seconds(e2e)
    print(String(format: "qofd read+validate %.2f s (%.0f MB/s, %.0f k patients/s, %.1f M records/s; peak %.0f MiB)", seconds(read),
                 Double(bytes) / 1e6 / seconds(read), Double(patients) / 1e3 / seconds(read), Double(records) / 1e6 / seconds(read), readRun.peakMiB))
    print(String(format: "qofd evaluate      %.2f s (%.0f k patients/s; peak %.0f MiB)", seconds(evaluated), Double(patients) / 1e3 / seconds(evaluated), evalRun.peakMiB))
    print(String(format: "qofd store         %.2f s (peak %.0f MiB)", seconds(stored), storeRun.peakMiB))
    print(String(format: "qofd end to end    %.2f s (%.0f MB/s, %.0f k patients/s, %.1f M records/s; peak %.0f MiB)", e, Double(bytes) / 1e6 / e,
                 Double(patients) / 1e3 / e, Double(records) / 1e6 / e, e2eRun.peakMiB))
    print(String(format: "cat                %.3f s;  DuckDB %.2f s (load %.2f + query %.2f; peak %.0f MiB);  PostgreSQL %.2f s (COPY %.2f + query %.2f)",
                 cat.seconds, duckResult["seconds"] as? Double ?? .nan, duckResult["load_seconds"] as? Double ?? .nan,
                 duckResult["query_seconds"] as? Double ?? .nan, duck.peakMiB, pgLoad + pgQuery, pgLoad, pgQuery))
    print(String(format: "ratios: qofd/cat %.1f, qofd/DuckDB %.2f, qofd/PostgreSQL %.2f", e / cat.seconds,
                 e / (duckResult["seconds"] as? Double ?? .nan), e / (pgLoad + pgQuery)))
}
await admin.close()
if option("--only") != nil { finish(0) }

// Linearity: end to end at the largest size over the next one down.
var linearity: [String: Double] = [:]
for (small, large) in zip(report, report.dropFirst()) {
    let a = (small["endToEnd"] as? [String: Any])?["seconds"] as? Double ?? .nan
    let b = (large["endToEnd"] as? [String: Any])?["seconds"] as? Double ?? .nan
    let key = "time(\(large["patients"] ?? 0))/time(\(small["patients"] ?? 0))"
    linearity[key] = b / a
    print(String(format: "%@ = %.1f", key, b / a))
}

func shell(_ command: String) -> String {
    (try? spawn(["/bin/sh", "-c", command]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
}
let stamp = ISO8601DateFormatter().string(from: Date())
let commit = shell("git -C \(quoted(repository.path)) rev-parse --short HEAD")
let results: [String: Any] = [
    "date": stamp, "commit": commit,
    "machine": ["cpus": ProcessInfo.processInfo.activeProcessorCount, "memoryGiB": Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824,
                "cpu": shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"), "kernel": shell("uname -sr"),
                "duckdb": shell("python3 -c 'import duckdb; print(duckdb.__version__)'"), "postgresql": shell("pg_config --version 2>/dev/null || postgres --version")],
    "sizes": report, "linearity": linearity, "mismatches": mismatches, "repeats": repeats,
]
try FileManager.default.createDirectory(at: resultsDirectory, withIntermediateDirectories: true)
let file = resultsDirectory.appending(path: "icb-\(stamp.prefix(10))-\(commit).json")
try JSONSerialization.data(withJSONObject: results, options: [.prettyPrinted, .sortedKeys]).write(to: file)
print("\nresults written to \(file.path)")
if !mismatches.isEmpty {
    print("\nCOUNTS DIFFER between qofd and the SQL references:")
    for m in mismatches { print("  " + m) }
    finish(1)
}
print("counts agree: qofd, DuckDB and PostgreSQL give the same registers, denominators and numerators")
