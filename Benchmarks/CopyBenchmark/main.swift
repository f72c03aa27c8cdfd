// COPY throughput: 1,000,000 rows through qofd's Swift libpq layer beside `psql \copy` of the same
// rows into the same server. Prints rows/s for each and the ratio. Not a test: figures only.
//
//   swift run -c release copy-benchmark [rows]
import Foundation
import Postgres
import PostgresCluster

let rows = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 1_000_000
let directory = URL(fileURLWithPath: "/tmp/qofd-bench-copy-\(getpid())")
let cluster = try PrivateCluster(directory: directory, settings: ["fsync": "off", "synchronous_commit": "off"])
try cluster.start()
defer { try? cluster.destroy() }
try await cluster.createDatabaseIfMissing()
let conn = try await PostgresConnection.connect(cluster.conninfo())
let table = "CREATE UNLOGGED TABLE IF NOT EXISTS bench (id int8, practice text, code int8, day date, value int4, note text)"
try await conn.executeScript(table)

let day = PostgresDate(year: 2026, month: 3, day: 31)
// The values are prepared before timing on both sides: psql reads a finished file.
let notes = (0..<rows).map { "event \($0) with\ttab" }

// The same rows as a COPY text file for psql.
let file = directory.appending(path: "rows.tsv")
var text = [UInt8]()
text.reserveCapacity(rows * 60)
for i in 0..<rows {
    text += Array("\(i)\tA81001\t\(38_341_003 + i % 97)\t2026-03-31\t\(i % 200)\tevent \(i) with\\ttab\n".utf8)
}
try Data(text).write(to: file)
_ = chmod(file.path, 0o644)

func measure(_ label: String, _ body: () async throws -> Void) async throws -> Double {
    try await conn.executeScript("TRUNCATE bench")
    let start = ContinuousClock.now
    try await body()
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let count = try await conn.query("SELECT count(*) FROM bench")[0].decode(0, as: Int.self)
    precondition(count == rows, "\(label): expected \(rows) rows, found \(count)")
    let rate = Double(rows) / seconds
    print("\(label.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%7.3f", seconds)) s  \(String(format: "%10.0f", rate)) rows/s")
    return rate
}

var swiftRates: [Double] = []
var psqlRates: [Double] = []
for round in 1...3 {
    swiftRates.append(try await measure("qofd CopyWriter (round \(round))") {
        try await conn.copyIn(table: "bench", columns: ["id", "practice", "code", "day", "value", "note"]) { w in
            for i in 0..<rows {
                try w.append(i)
                try w.append("A81001")
                try w.append(38_341_003 + i % 97)
                try w.append(day)
                try w.append(i % 200)
                try w.append(notes[i])
                try w.endRow()
            }
        }
    })
    psqlRates.append(try await measure("psql \\copy (round \(round))") {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = [cluster.conninfo(), "-q", "-c", "\\copy bench (id, practice, code, day, value, note) FROM '\(file.path)'"]
        try p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "psql failed")
    })
}
let best = (swiftRates.max()!, psqlRates.max()!)
print("best: qofd \(Int(best.0)) rows/s, psql \(Int(best.1)) rows/s, ratio qofd/psql = \(String(format: "%.2f", best.0 / best.1))")
await conn.close()
