import Clinical
import Clusters
import Foundation
import Postgres
import Reports
import RulesEngine
import Storage
import Testing
import TestSupport

/// One truth: for each kind of ruleset (QOF 2025/26, QOF 2024/25 with income protection, flu, shingles), every
/// figure of a practice's run is the same in `qofd compute` (JSON and CQRS), the stored run, the HTML, CSV,
/// JSON, FHIR and CQRS reports, the web dashboard and the PCN page (read from the rendered pages), and
/// `qofd pcn`. A figure on missing code lists says so everywhere and is never shown as a plain percentage.
@Suite("One truth in every output")
struct OneTruthTests {
    static let kinds = ["qof-2025-26", "qof-2024-25", "flu-2025-26", "shingles-2025-26"]

    @Test("every figure is identical in compute, the stored run, every report format, the CQRS export and the web pages", arguments: kinds)
    func everyOutputAgrees(ruleset id: String) async throws {
        let f = try await WebFixture.shared.value
        let ods = f.practices[0]
        let rulesets = try RulesetLoader(library: try ClusterLibrary.bundled()).loadAll()
        let rs = try #require(rulesets[id])
        let conn = try await PostgresConnection.connect(f.conninfo)
        defer { Task { await conn.close() } }
        let runID = try #require(try await StoredFigures.latestRunID(practice: ods, ruleset: id, in: conn))
        let stored = try #require(try await StoredFigures.load(run: runID, in: conn))
        let source = try await conn.query("SELECT e.source_name FROM computation_run r JOIN extract e ON e.id = r.extract_id WHERE r.id = \(runID)")[0]
            .decode(0, as: String.self)
        let archived = f.base.appending(path: "archive").appending(path: ods).appending(path: source)
        let qof = rs.kind == .qof
        #expect(stored.indicators.count == rs.indicators.count)
        if qof { #expect(stored.paymentYear == id && (stored.pounds ?? 0) > 0) }
        if id == "qof-2024-25" { #expect(stored.indicators.first { $0.id == "QI013" }?.points == 20.5, "income protection paid as last year's points") }
        if !qof {
            // A cohort's tallies are tallies, never exclusions, and its target is stored with the run.
            let cohort = try #require(stored.indicators.first)
            #expect(!cohort.fields(.tally).isEmpty && cohort.fields(.exclusion).isEmpty && cohort.fields(.pca).isEmpty)
            #expect(cohort.target != nil)
        }

        // 1. `qofd compute` on the archived extract, with the same achievement date and national figures.
        let compute = try run(["compute", "--extract", archived.path, "--ruleset", id, "--achievement-date", stored.achievementDate.description,
                               "--format", "json"] + (qof ? ["--payments", "--national-dir", f.national.path] : []))
        let computed = try #require(try JSONSerialization.jsonObject(with: Data(compute.utf8)) as? [String: Any])
        let practice = try #require((computed["practices"] as? [[String: Any]])?.first)
        let computedIndicators = Dictionary(uniqueKeysWithValues: (practice["indicators"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, $0) })
        let payments = Dictionary(uniqueKeysWithValues: ((practice["payment"] as? [String: Any])?["indicators"] as? [[String: Any]] ?? []).map {
            ($0["id"] as! String, $0)
        })
        for s in stored.indicators {
            let c = try #require(computedIndicators[s.id], "\(id) \(s.id) in compute")
            #expect(c["denominator"] as? Int == s.denominator && c["numerator"] as? Int == s.numerator && c["registerSize"] as? Int == s.registerSize,
                    "\(id) \(s.id): compute counts")
            #expect(c["fields"] as? [String: Int] == s.fields, "\(id) \(s.id): compute fields")
            let completeness = c["completeness"] as? [String: Any]
            #expect(completeness?["computable"] as? Bool == s.completeness.computable && completeness?["status"] as? String == s.completeness.status.rawValue)
            if qof, let p = payments[s.id] {
                #expect(close(p["pounds"] as? Double, s.pounds) && close(p["poundsAvailable"] as? Double, s.poundsAvailable), "\(id) \(s.id): compute pounds")
                #expect(close(p["points"] as? Double, s.points), "\(id) \(s.id): compute points")
                #expect(p["patientsForNextPoint"] as? Int == s.patientsForNextPoint, "\(id) \(s.id): patients for the next point")
                if s.completeness.computable { #expect(close(p["poundsAtStake"] as? Double, s.poundsAtStake), "\(id) \(s.id): at stake") }
            }
        }
        if qof, let p = practice["payment"] as? [String: Any] {
            #expect(close(p["pounds"] as? Double, stored.pounds) && close(p["poundsAvailable"] as? Double, stored.poundsAvailable)
                    && close(p["poundsAtStake"] as? Double, stored.poundsAtStake), "\(id): compute totals")
        }
        let computedCQRS = try run(["compute", "--extract", archived.path, "--ruleset", id, "--achievement-date", stored.achievementDate.description,
                                    "--format", "cqrs"])

        // 2. The reports, each format parsed back.
        let data = try #require(try await ReportData.load(practice: ods, ruleset: rs, achievementDate: stored.achievementDate, in: conn))
        #expect(data.runID == runID)
        #expect(close(data.pounds, stored.pounds ?? 0) && close(data.poundsAvailable, stored.poundsAvailable ?? 0) && close(data.poundsAtStake, stored.poundsAtStake))
        let json = try JSONDecoder().decode(ReportData.self, from: ReportRenderer.json(data))
        let csv = table(ReportRenderer.csv(data))
        let cqrs = cqrsValues(ReportRenderer.cqrs(data))
        #expect(cqrsValues(computedCQRS)[ods] == cqrs[ods], "\(id): the report's CQRS export is the compute export")
        let fhir = try #require(try JSONSerialization.jsonObject(with: ReportRenderer.fhir(data)) as? [String: Any])
        let groups = Dictionary(uniqueKeysWithValues: (fhir["group"] as? [[String: Any]] ?? []).map { g in
            (((g["code"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String ?? "", g)
        })
        let html = ReportRenderer.html(data)
        #expect(html.contains(ReportRenderer.money(stored.pounds ?? 0)) || !qof)
        if qof { #expect(html.contains(ReportRenderer.money(stored.poundsAvailable)) && html.contains(ReportRenderer.money(stored.poundsAtStake))) }
        for s in stored.indicators {
            let j = try #require(json.indicators.first { $0.id == s.id })
            #expect(j.denominator == s.denominator && j.numerator == s.numerator && j.completeness == s.completeness, "\(id) \(s.id): JSON")
            #expect(j.pcas == s.fields(.pca) && j.exclusions == s.fields(.exclusion) && j.tallies == s.fields(.tally), "\(id) \(s.id): JSON fields")
            #expect(close(j.pounds, s.pounds) && close(j.poundsAtStake, s.poundsAtStake) && j.patientsForNextPoint == s.patientsForNextPoint)
            let row = try #require(csv.first { $0["indicator"] == s.id })
            #expect(row["denominator"] == "\(s.denominator)" && row["numerator"] == "\(s.numerator)", "\(id) \(s.id): CSV")
            #expect(row["exclusions"] == "\(s.fields(.exclusion).values.reduce(0, +))" && row["pcas"] == "\(s.fields(.pca).values.reduce(0, +))")
            #expect(row["computable"] == "\(s.completeness.computable)" && row["code_lists"] == s.completeness.status.rawValue)
            #expect(s.completeness.computable || row["achievement"] == "", "\(id) \(s.id): no percentage for a figure that cannot be computed")
            #expect(row["pounds_at_stake"] == (s.poundsAtStake.map { String(format: "%.2f", $0) } ?? ""))
            if !qof { #expect(row["target"].flatMap(Double.init) == s.target && row["lower_threshold"] == "") }
            let g = try #require(groups[s.id])
            let populations = Dictionary(uniqueKeysWithValues: (g["population"] as? [[String: Any]] ?? []).map { p in
                ((((p["code"] as? [String: Any])?["coding"] as? [[String: Any]])?.first?["code"] as? String ?? ""), p["count"] as? Int ?? -1)
            })
            let removed = s.fields(.exclusion).values.reduce(0, +) + s.fields(.pca).values.reduce(0, +)
            #expect(populations["numerator"] == s.numerator && populations["denominator"] == s.denominator + removed, "\(id) \(s.id): FHIR")
            #expect(populations["denominator-exclusion"] == s.fields(.exclusion).values.reduce(0, +), "\(id) \(s.id): FHIR exclusions are exclusions only")
            let hasScore = g["measureScore"].map { !($0 is NSNull) } ?? false
            #expect(hasScore == (s.completeness.computable && s.achievement != nil), "\(id) \(s.id): FHIR score")
            if rs.indicators.first(where: { $0.id == s.id })?.payment == .protected {
                #expect(cqrs[ods]?[s.id] == nil, "\(id) \(s.id): an income-protected indicator is not computed, so it has no CQRS values")
            } else {
                #expect(cqrs[ods]?[s.id]?["Denominator"] == s.denominator && cqrs[ods]?[s.id]?["Numerator"] == s.numerator, "\(id) \(s.id): CQRS")
            }
            if !s.completeness.computable { #expect(html.contains("cannot be computed")) }
        }

        // 3. The web dashboard, read from the rendered page.
        let session = try Session(f, user: "pcnlead")
        let page = session.get("/practice/\(ods)?ruleset=\(id)")
        #expect(page.status == 200)
        if qof {
            #expect(element(page.body, id: "pounds") == "£" + webMoney(stored.pounds ?? 0), "\(id): dashboard pounds")
            #expect(element(page.body, id: "at-stake") == "£" + webMoney(stored.poundsAtStake ?? 0), "\(id): dashboard at stake")
            #expect(page.body.contains("of £" + webMoney(stored.poundsAvailable ?? 0) + " available"), "\(id): dashboard available")
            // Quick wins: the fewest patients for the next point first, from the stored figure.
            if let fewest = stored.indicators.filter({ $0.completeness.computable && ($0.patientsForNextPoint ?? 0) > 0 }).compactMap(\.patientsForNextPoint).min() {
                let wins = try #require(page.body.range(of: "id=\"quick-wins\">").map { String(page.body[$0.upperBound...].prefix(400)) })
                #expect(wins.contains(": \(fewest) patient"), "\(id): the first quick win needs \(fewest) patients")
            }
        } else {
            // A programme earns no points: no "0.00 of 0.00", but how many cohorts are at their target.
            #expect(element(page.body, id: "points") == nil, "\(id): no points card")
            let atTarget = stored.indicators.filter { r in
                guard r.completeness.computable, let t = r.target ?? rs.indicators.first(where: { $0.id == r.id })?.target?.percent else { return false }
                return (r.achievement ?? -1) >= t
            }.count
            #expect(element(page.body, id: "cohorts-at-target") == String(atTarget), "\(id): cohorts at target")
        }
        for s in stored.indicators {
            let row = try #require(tableRow(page.body, id: "row-\(s.id)"), "\(id) \(s.id): dashboard row")
            #expect(row.contains("\(s.numerator) / \(s.denominator)"), "\(id) \(s.id): dashboard counts")
            if s.completeness.computable {
                if let a = s.achievement { #expect(row.contains(String(format: "%.1f%%", a)), "\(id) \(s.id): dashboard achievement") }
            } else {
                #expect(row.contains("cannot be computed") && !row.contains("0.0%"), "\(id) \(s.id): never a plain 0 %")
            }
            if qof, let p = s.pounds { #expect(row.contains("£" + webMoney(p)), "\(id) \(s.id): dashboard pounds") }
        }

        // 4. The PCN page and `qofd pcn`: each practice's cell and the PCN total from the same stored runs.
        if id == "qof-2025-26" || id == "flu-2025-26" {
            let pcnPage = session.get("/pcn/\(f.pcn)?ruleset=\(id)")
            #expect(pcnPage.status == 200)
            for s in stored.indicators where s.completeness.computable {
                #expect(pcnPage.body.contains("(\(s.numerator)/\(s.denominator))"), "\(id) \(s.id): PCN page cell")
            }
            #expect(pcnPage.body.contains("achievement date \(stored.achievementDate)") || pcnPage.body.contains("\(stored.achievementDate)"))
        }
        if qof {
            let pcn = try run(["pcn", "--pcn", f.pcn, "--ruleset", id, "--achievement-date", stored.achievementDate.description, "--json",
                               "--database-url", f.conninfo])
            let rolled = try #require(try JSONSerialization.jsonObject(with: Data(pcn.utf8)) as? [[String: Any]])
            for s in stored.indicators {
                let r = try #require(rolled.first { $0["indicator"] as? String == s.id })
                let mine = (r["practices"] as? [[String: Any]] ?? []).first { $0["practice"] as? String == ods }
                #expect(mine?["numerator"] as? Int == s.numerator && mine?["denominator"] as? Int == s.denominator, "\(id) \(s.id): qofd pcn")
                #expect(r["computable"] as? Bool == s.completeness.computable || !s.completeness.computable)
            }
        }
    }

    // MARK: helpers

    func close(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return abs(x - y) < 0.006
        default: return false
        }
    }

    func run(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = qofdExecutable()
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A CSV with a header row (no quoted commas in qofd's reports).
    func table(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0).map { ($0, $1) }) }
    }

    /// INDICATOR_VALUES rows as practice → indicator → field → value (register rows included).
    func cqrsValues(_ text: String) -> [String: [String: [String: Int]]] {
        var out: [String: [String: [String: Int]]] = [:]
        for row in table(text) {
            guard let org = row["ORG_CODE"], let ind = row["IND_CODE"], let field = row["FIELD_NAME"], let v = row["VALUE"].flatMap(Int.init) else { continue }
            out[org, default: [:]][ind, default: [:]][field] = v
        }
        return out
    }

    /// The web view's money: thousands separators, two places, no sign for positives.
    func webMoney(_ x: Double) -> String {
        let fixed = String(format: "%.2f", x)
        let parts = fixed.split(separator: ".")
        var whole = String(parts[0]), grouped = ""
        while whole.count > 3 { grouped = "," + whole.suffix(3) + grouped; whole = String(whole.dropLast(3)) }
        return whole + grouped + "." + parts[1]
    }

    /// The text inside the element with `id` (up to its first closing tag).
    func element(_ html: String, id: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\">") else { return nil }
        let rest = html[start.upperBound...]
        return rest.range(of: "<").map { String(rest[..<$0.lowerBound]) }
    }

    /// The markup of the table row with `id`.
    func tableRow(_ html: String, id: String) -> String? {
        guard let start = html.range(of: "<tr id=\"\(id)\">") else { return nil }
        let rest = html[start.upperBound...]
        return rest.range(of: "</tr>").map { String(rest[..<$0.lowerBound]) }
    }
}
