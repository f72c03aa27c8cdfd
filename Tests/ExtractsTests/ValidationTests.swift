import Clinical
import Extracts
import Foundation
import Testing
import Clusters
import Synth
import TestSupport

@Suite("Extract validation: every problem named by file, line, column and reason")
struct ValidationTests {
    @Test("a well-formed extract is accepted with every row")
    func wellFormed() throws {
        let check = try ExtractFixture().check()
        #expect(!check.isRejected)
        #expect(check.problems.listed.isEmpty)
        let p = try #require(check.population)
        #expect(p.patientCount == 3)
        #expect(p.events.count == 3)
        #expect(p.medications.count == 1)
        #expect(p.registrations.count == 3)
        let p1 = try #require(p.index(ofPatient: "P1"))
        let bp = p.events[p.eventRange(p1)].last!
        #expect(bp.value == 146 && bp.value2 == 88)
        #expect(p.codes[bp.code] == 75367002)
        #expect(p.isRegisteredAndAlive(p1, on: p.dataTo))
        #expect(!p.isRegisteredAndAlive(try #require(p.index(ofPatient: "P3")), on: p.dataTo))
    }

    @Test("rows in any patient order, CRLF line ends and quoted ids read the same as grouped plain rows")
    func rowOrderAndQuoting() throws {
        var plain = ExtractFixture()
        plain.patients += "P10,,1970-01-01,F,,,\nP1x,,1971-01-01,M,,,\n"
        plain.events = """
            patient_id,date,code,value,value2,unit
            P10,2025-06-01,38341003,,,
            P1,2025-06-01,38341003,,,
            P2,2024-04-01,195967001,,,
            P1x,2025-07-01,38341003,,,
            P1,2026-01-12,75367002,146,88,mm[Hg]
            P10,2025-07-01,195967001,,,

            """.replacingOccurrences(of: "\n", with: "\r\n")
        var quoted = plain
        quoted.events = quoted.events.replacingOccurrences(of: "P10,", with: "\"P10\",")
        for fixture in [plain, quoted] {
            let check = try fixture.check()
            #expect(check.problems.listed.isEmpty, "\(check.problems.listed)")
            let p = try #require(check.population)
            #expect(p.events.count == 6)
            for (id, count) in [("P1", 2), ("P10", 2), ("P1x", 1), ("P2", 1)] {
                #expect(p.eventRange(try #require(p.index(ofPatient: id))).count == count, "\(id)")
            }
        }
    }

    static func rowProblem(_ check: ExtractCheck) -> ExtractProblem? { check.problems.listed.first { $0.severity == .row } }

    @Test("an impossible date (2026-02-30) drops the row and names file, line and column")
    func impossibleDate() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "P2,2024-04-01", with: "P2,2026-02-30")
        let check = try f.check()
        let problem = try #require(Self.rowProblem(check))
        #expect(problem.file == "events.csv" && problem.line == 4 && problem.column == "date")
        #expect(problem.reason.contains("not a valid date"))
        #expect(check.population?.events.count == 2)
    }

    @Test("a date after the data-to date is refused")
    func futureDate() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "P2,2024-04-01", with: "P2,2026-04-01")
        let problem = try #require(Self.rowProblem(try f.check()))
        #expect(problem.line == 4 && problem.column == "date" && problem.reason.contains("after the extract's data-to date"))
    }

    @Test("a date before 1850 (a valid-looking 0001-02-15 diagnosis) is a row problem, never a date the rules compute with")
    func ancientDate() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "P2,2024-04-01", with: "P2,0001-02-15")
        let check = try f.check()
        let problem = try #require(Self.rowProblem(check))
        #expect(problem.file == "events.csv" && problem.line == 4 && problem.column == "date" && problem.reason.contains("before 1850-01-01"))
        #expect(!check.isRejected && check.population?.events.count == 2)
    }

    @Test("a data file that is a symbolic link rejects the extract without reading what it points to")
    func symlinkRefused() throws {
        let dir = try ExtractFixture().write()
        let events = dir.appending(path: "events.csv")
        let secret = dir.deletingLastPathComponent().appending(path: "secret-\(UUID().uuidString.prefix(6)).csv")
        try FileManager.default.moveItem(at: events, to: secret)
        try FileManager.default.createSymbolicLink(at: events, withDestinationURL: secret)
        let check = ExtractLoader().load(dir)
        #expect(check.isRejected)
        let problem = try #require(check.problems.fileProblems.first)
        #expect(problem.file == "events.csv" && problem.reason.contains("symbolic link"))
        #expect(!ErrorReport(check).text.contains("P2,"), "nothing of the linked file is quoted")
    }

    @Test("an unknown patient id in events is reported")
    func unknownPatient() throws {
        var f = ExtractFixture()
        f.events += "P9,2025-01-01,38341003,,,\n"
        let problem = try #require(Self.rowProblem(try f.check()))
        #expect(problem.file == "events.csv" && problem.line == 5 && problem.column == "patient_id")
    }

    @Test("a duplicate patient and a duplicate event are reported with their lines")
    func duplicates() throws {
        var f = ExtractFixture()
        f.patients += "P1,,1950-06-01,F,,,\n"
        f.events += "P1,2026-01-12,75367002,146,88,mm[Hg]\n"
        let check = try f.check()
        let rows = check.problems.listed.filter { $0.severity == .row }
        #expect(rows.contains { $0.file == "patients.csv" && $0.line == 5 && $0.reason.contains("duplicate patient_id") })
        #expect(rows.contains { $0.file == "events.csv" && $0.line == 5 && $0.reason.contains("duplicate of line 3") })
        #expect(check.population?.events.count == 3)
    }

    @Test("an NHS number failing the Modulus 11 check is refused")
    func invalidNHSNumber() throws {
        var f = ExtractFixture()
        f.patients = f.patients.replacingOccurrences(of: "9434765919", with: "9434765918")
        let problem = try #require(Self.rowProblem(try f.check()))
        #expect(problem.file == "patients.csv" && problem.line == 2 && problem.column == "nhs_number")
    }

    @Test("a non-numeric value is refused", arguments: ["abc", "1.2.3", "1e5", "14 6"])
    func nonNumeric(_ value: String) throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: ",146,", with: ",\(value),")
        let problem = try #require(Self.rowProblem(try f.check()))
        #expect(problem.line == 3 && problem.column == "value" && problem.reason == "not a number")
    }

    @Test("malformed CSV (a stray quote) drops that row only, with its line")
    func malformedCSV() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "P2,2024-04-01,195967001", with: "P2,2024-04-01,1959\"67001")
        let check = try f.check()
        let problem = try #require(Self.rowProblem(check))
        #expect(problem.line == 4 && problem.reason.contains("malformed CSV"))
        #expect(check.population?.events.count == 2)
    }

    @Test("a row with the wrong number of fields is reported")
    func wrongFieldCount() throws {
        var f = ExtractFixture()
        f.registrations += "P2,2009-01-01\n"
        let problem = try #require(Self.rowProblem(try f.check()))
        #expect(problem.file == "registrations.csv" && problem.line == 5 && problem.reason.contains("has 2 fields"))
    }

    @Test("a wrong column set rejects the extract")
    func wrongColumns() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "value2,unit", with: "value_2,unit")
        let check = try f.check()
        #expect(check.isRejected)
        let problem = try #require(check.problems.fileProblems.first)
        #expect(problem.file == "events.csv" && problem.line == 1)
        #expect(problem.reason.contains("missing value2") && problem.reason.contains("unexpected value_2"))
    }

    @Test("a checksum that does not match the manifest rejects the extract")
    func checksumMismatch() throws {
        var f = ExtractFixture()
        f.tamperManifest = { files in files[2].sha256 = String(repeating: "0", count: 64) }
        let check = try f.check()
        #expect(check.isRejected)
        #expect(check.problems.fileProblems.contains { $0.file == "events.csv" && $0.reason.contains("SHA-256") })
    }

    @Test("a row count that does not match the manifest rejects the extract")
    func rowCountMismatch() throws {
        var f = ExtractFixture()
        f.tamperManifest = { files in files[0].rows = 4 }
        let check = try f.check()
        #expect(check.isRejected)
        #expect(check.problems.fileProblems.contains { $0.file == "patients.csv" && $0.reason.contains("manifest says 4") })
    }

    @Test("a file cut off inside a quoted field is reported as truncated and rejects the extract")
    func truncated() throws {
        var f = ExtractFixture()
        f.rawFiles["events.csv"] = Array("patient_id,date,code,value,value2,unit\nP1,2025-06-01,38341003,,,\"mm".utf8)
        f.events = "patient_id,date,code,value,value2,unit\nP1,2025-06-01,38341003,,,\"mm\n"
        let check = try f.check()
        #expect(check.isRejected)
        #expect(check.problems.fileProblems.contains { $0.file == "events.csv" && $0.line == 2 && $0.reason.contains("truncated") })
    }

    @Test("bytes that are not UTF-8 reject the extract, with line and byte position")
    func notUTF8() throws {
        var f = ExtractFixture()
        var bytes = Array(f.patients.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "U"))!  // the U on line 4
        bytes[at] = 0xFF
        f.rawFiles["patients.csv"] = bytes
        let check = try f.check()
        #expect(check.isRejected)
        let problem = try #require(check.problems.fileProblems.first)
        #expect(problem.file == "patients.csv" && problem.line == 4 && problem.reason == "not valid UTF-8")
    }

    @Test("an extract without a manifest is incomplete")
    func missingManifest() throws {
        var f = ExtractFixture()
        f.writeManifest = false
        let dir = try f.write()
        #expect(!ExtractLoader.isComplete(dir))
        let check = ExtractLoader().load(dir)
        #expect(check.isRejected)
        #expect(check.problems.fileProblems.first?.file == "manifest.json")
    }

    @Test("too many bad rows reject the extract even though each is only a row problem")
    func tooManyRowProblems() throws {
        var f = ExtractFixture()
        f.events = f.events.replacingOccurrences(of: "2024-04-01", with: "2024-13-01").replacingOccurrences(of: "2025-06-01", with: "x")
        let check = try f.check(maxRowProblems: 0.1)
        #expect(check.isRejected)
        #expect(check.problems.fileProblems.contains { $0.file == "extract" && $0.reason.contains("rows have problems") })
    }

    @Test("row problems beyond the listing limit are counted, not lost")
    func listingLimit() throws {
        var f = ExtractFixture()
        for i in 0..<30 { f.events += "P\(100 + i),2025-01-01,38341003,,,\n" }
        let check = ExtractLoader(maxRowProblemFraction: 1, problemsListedPerFile: 10).load(try f.write())
        #expect(check.problems.listed.count == 10)
        #expect(check.problems.rowProblemCounts["events.csv"] == 30)
        #expect(check.problems.unlisted["events.csv"] == 20)
    }

    @Test("a rejected extract is quarantined whole, with JSON and text reports beside it")
    func quarantine() throws {
        var f = ExtractFixture()
        f.tamperManifest = { files in files[1].rows = 99 }
        let dir = try f.write()
        let check = ExtractLoader().load(dir)
        #expect(check.isRejected)
        let quarantine = dir.deletingLastPathComponent().appending(path: "quarantine")
        let moved = try Quarantine.move(check, to: quarantine)
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        for file in ["manifest.json", "patients.csv", "events.csv", "errors.json", "errors.txt"] {
            #expect(FileManager.default.fileExists(atPath: moved.appending(path: file).path))
        }
        let report = try JSONDecoder().decode(ErrorReport.self, from: Data(contentsOf: moved.appending(path: "errors.json")))
        #expect(report.rejected && report.practice == "A81001")
        #expect(report.problems.contains { $0.file == "registrations.csv" && $0.reason.contains("manifest says 99") })
        let text = try String(contentsOf: moved.appending(path: "errors.txt"), encoding: .utf8)
        #expect(text.contains("REJECTED") && text.contains("registrations.csv"))
    }
}

/// FHIR NDJSON problems name their own file and line, like CSV.
@Suite("FHIR extract problems")
struct FHIRProblemTests {
    @Test("duplicate episodes and records are reported at their own file and line, never line 0")
    func duplicatesNamed() throws {
        var o = Synthesizer.Options()
        o.seed = 5
        o.practices = 1
        o.patients = 50
        o.encoding = .fhirNDJSON
        let base = TestFolders.make("fhir-dup")
        let dir = try Synthesizer(library: try ClusterLibrary.bundled()).write(o, to: base)[0].directory
        var counts: [String: Int] = [:]
        for name in ["EpisodeOfCare.ndjson", "Observation.ndjson"] {
            let url = dir.appending(path: name)
            let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            try Data((lines.map(String.init) + [String(lines[0])]).joined(separator: "\n").appending("\n").utf8).write(to: url)
            counts[name] = lines.count + 1
        }
        let manifestURL = dir.appending(path: "manifest.json")
        var m = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        m.files = try m.files.map { f in
            var g = f
            if let n = counts[f.name] {
                g.rows = n
                g.sha256 = sha256Hex(try Data(contentsOf: dir.appending(path: f.name)))
            }
            return g
        }
        try JSONEncoder().encode(m).write(to: manifestURL)
        let check = ExtractLoader().load(dir)
        #expect(!check.isRejected)
        let rows = check.problems.listed.filter { $0.severity == .row }
        #expect(rows.contains { $0.file == "EpisodeOfCare.ndjson" && $0.line == counts["EpisodeOfCare.ndjson"] && $0.reason.contains("line 1") })
        #expect(rows.contains { $0.file == "Observation.ndjson" && $0.line == counts["Observation.ndjson"] && $0.reason.contains("line 1") })
        #expect(!rows.contains { $0.line == 0 })
    }
}
