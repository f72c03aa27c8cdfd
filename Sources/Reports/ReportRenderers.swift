import Foundation
import RulesEngine
import QRISK3

/// Renders a `ReportData` as a self-contained HTML page (no external assets, A4 print styles), a flat
/// CSV, JSON, or a FHIR R4 MeasureReport.
public enum ReportRenderer {
    static func escape(_ s: String) -> String {
        // One pass over the bytes; most text has nothing to escape and is returned as it is.
        guard s.utf8.contains(where: { $0 == 38 || $0 == 60 || $0 == 62 || $0 == 34 }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        for b in s.utf8 {
            switch b {
            case 38: out += "&amp;".utf8
            case 60: out += "&lt;".utf8
            case 62: out += "&gt;".utf8
            case 34: out += "&quot;".utf8
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func money(_ x: Double?) -> String {
        guard let x else { return "–" }
        let text = String(format: "%.2f", abs(x))
        let whole = Array(text.prefix { $0 != "." })
        var grouped = ""
        for (i, c) in whole.enumerated() {
            if i > 0 && (whole.count - i) % 3 == 0 { grouped.append(",") }
            grouped.append(c)
        }
        return (x < 0 ? "−£" : "£") + grouped + text.drop { $0 != "." }
    }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0) } ?? "–" }
    static func change(_ x: Double?) -> String { x.map { String(format: "%+.1f pp", $0) } ?? "–" }

    /// An inline SVG bar: achievement against the lower and upper thresholds.
    static func bar(_ i: ReportData.Indicator) -> String {
        let width = 160.0
        let a = min(100, max(0, i.achievement ?? 0))
        let colour = a >= i.upperThreshold ? "#00703c" : a > i.lowerThreshold ? "#b58105" : "#b10e1e"
        let lt = width * i.lowerThreshold / 100
        let ut = width * i.upperThreshold / 100
        return """
            <svg class="bar" width="\(Int(width))" height="14" role="img" aria-label="\(percent(i.achievement)) achieved; thresholds \(Int(i.lowerThreshold))% to \(Int(i.upperThreshold))%">\
            <rect width="\(Int(width))" height="14" fill="#e8e8e8"/><rect width="\(String(format: "%.1f", width * a / 100))" height="14" fill="\(colour)"/>\
            <line x1="\(String(format: "%.1f", lt))" y1="0" x2="\(String(format: "%.1f", lt))" y2="14" stroke="#0b0c0c" stroke-width="2"/>\
            <line x1="\(String(format: "%.1f", ut))" y1="0" x2="\(String(format: "%.1f", ut))" y2="14" stroke="#0b0c0c" stroke-width="2" stroke-dasharray="3,2"/></svg>
            """
    }

    public static func html(_ d: ReportData) -> String {
        let programme = d.rulesetKind == "programme"
        var rows = ""
        var lastGroup = ""
        for i in d.indicators.sorted(by: { ($0.group, $0.id) < ($1.group, $1.id) }) {
            if i.group != lastGroup {
                rows += "<tr class=\"group\"><th colspan=\"11\" scope=\"rowgroup\">\(escape(i.group))</th></tr>\n"
                lastGroup = i.group
            }
            // Fields that removed nobody are left out to keep the page readable (the CSV and JSON have them all).
            let fields = (i.exclusions.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                + i.pcas.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) (PCA)" }
                + i.tallies.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })
                .map(escape).joined(separator: "<br>")
            let c = i.completeness
            // A figure computed on missing code lists is never shown as a plain percentage.
            let achievement = c.computable
                ? "\(percent(i.achievement))<br>\(bar(i))<br><span class=\"thr\">\(i.target.map { "target \(percent($0))" } ?? "\(Int(i.lowerThreshold))–\(Int(i.upperThreshold))%")</span>"
                : "<strong class=\"flag\">cannot be computed</strong><br><span class=\"thr\">code lists missing</span>"
            let note = c.status == .complete ? "" : "<br><span class=\"flag\">\(escape(c.words))</span>"
            rows += """
                <tr><th scope="row"><span class="id">\(escape(i.id))</span>\(i.verified ? "" : "<sup title=\"figures not yet verified\">†</sup>")<br><span class="desc">\(escape(i.describe))</span>\(note)</th>\
                <td>\(i.registerSize)</td><td class="fields">\(fields.isEmpty ? "–" : fields)</td><td>\(i.denominator)</td><td>\(i.numerator)</td>\
                <td>\(achievement)</td>\
                <td>\(programme ? "–" : "\(String(format: "%.2f", i.points)) / \(String(format: "%g", i.maxPoints))")</td><td>\(d.hasPounds ? money(i.pounds) : "–")</td>\
                <td>\(change(i.changeSincePreviousRun))</td><td>\(change(i.changeSinceLastYear))</td></tr>

                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en-GB">
            <head>
            <meta charset="utf-8">
            <title>\(escape(d.rulesetTitle)) — \(escape(d.practiceName)) (\(escape(d.practice))) — \(escape(d.achievementDate))</title>
            <style>
            body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; margin: 1.5em; font-size: 11pt; }
            h1 { font-size: 18pt; margin: 0 0 .2em; } h2 { font-size: 13pt; margin: 1.2em 0 .4em; }
            .meta { color: #505a5f; margin: 0 0 1em; }
            .summary { display: flex; gap: 1em; flex-wrap: wrap; }
            .summary div { border: 1px solid #b1b4b6; padding: .5em .8em; min-width: 9em; }
            .summary strong { display: block; font-size: 15pt; }
            table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
            th, td { border-bottom: 1px solid #b1b4b6; padding: .3em .4em; text-align: left; vertical-align: top; }
            thead th { background: #f3f2f1; }
            tr.group th { background: #dee0e2; font-size: 10.5pt; }
            .id { font-weight: bold; } .desc { color: #505a5f; font-weight: normal; } .thr { color: #505a5f; font-size: 8.5pt; }
            .fields { font-size: 8.5pt; } .note { color: #505a5f; font-size: 9pt; }
            .flag { color: #8a1538; font-size: 8.5pt; } .notice { border-left: 5px solid #8a1538; padding: .3em .8em; margin-top: .8em; }
            @page { size: A4 landscape; margin: 12mm; }
            @media print { body { margin: 0; } tr { page-break-inside: avoid; } }
            </style>
            </head>
            <body>
            <main>
            <h1>\(escape(d.rulesetTitle))</h1>
            <p class="meta">\(escape(d.practiceName)) (\(escape(d.practice)))\(d.pcn.map { ", PCN \(escape($0))" } ?? "") · achievement date \(escape(d.achievementDate)) · list size \(d.listSize) · run \(d.runID) · status: <strong>\(escape(d.state))</strong>\(d.snapshotSHA256.map { " · declared snapshot \($0.prefix(16))…" } ?? "")</p>
            <section aria-labelledby="summary"><h2 id="summary">Summary</h2>
            <div class="summary">
            \(summary(d))
            </div>
            \(completenessNotice(d))</section>
            <section aria-labelledby="indicators"><h2 id="indicators">Indicators</h2>
            <table>
            <thead><tr><th scope="col">Indicator</th><th scope="col">Register</th><th scope="col">Exclusions and PCAs</th><th scope="col">Denominator</th><th scope="col">Numerator</th><th scope="col">Achievement (thresholds)</th><th scope="col">Points</th><th scope="col">Pounds</th><th scope="col">Since last run</th><th scope="col">Since last year</th></tr></thead>
            <tbody>
            \(rows)</tbody>
            </table>
            <p class="note">Bars: achievement; the solid line is the lower threshold, the dashed line the upper. † figures or rules not yet verified against the published source (see the qofd README). Pounds are estimates from the national figures qofd holds.</p>
            </section>
            \(populationSection(d))
            </main>
            </body>
            </html>

            """
    }

    /// The summary boxes: points and pounds for QOF (as the pipeline stored them), cohorts for a programme.
    static func summary(_ d: ReportData) -> String {
        if d.rulesetKind == "programme" {
            let met = d.indicators.filter { i in i.completeness.computable && i.target.map { t in (i.achievement ?? 0) >= t } == true }.count
            return "<div>Cohorts<strong>\(d.indicators.count)</strong>\(met) at or above target</div>"
                + "<div>Eligible<strong>\(d.indicators.reduce(0) { $0 + $1.denominator })</strong>patients over all cohorts</div>"
        }
        var out = "<div>Points achieved<strong>\(String(format: "%.2f", d.pointsAchieved))</strong>of \(String(format: "%g", d.pointsAvailable)) available</div>"
        guard d.hasPounds else { return out + "<div>Pounds<strong>–</strong>no national figures for this year</div>" }
        out += "<div>Pounds achieved<strong>\(money(d.pounds))</strong>of \(money(d.poundsAvailable)) available</div>"
        out += "<div>At stake<strong>\(money(d.poundsAtStake))</strong>to the upper thresholds</div>"
        if let n = d.poundsNotAssessed, n > 0.005 {
            out += "<div>Not assessed<strong>\(money(n))</strong>code lists missing</div>"
        }
        if let a = d.aspiration {
            out += "<div>Aspiration paid<strong>\(money(a))</strong>of last year's \(money(d.lastYearPounds))</div>"
                + "<div>Balance at year end<strong>\(money(d.balance))</strong>pounds achieved less aspiration</div>"
        }
        return out
    }

    /// What the figures cannot say: indicators on missing code lists, and unverified national figures.
    /// The population summary of the run's extract, when there is one: for planning, with ClinRisk's disclaimer.
    static func populationSection(_ d: ReportData) -> String {
        guard let p = d.population else { return "" }
        func list(_ lines: [ReportData.Population.Line]) -> String {
            lines.map { "\(escape($0.label)) \($0.patients)" }.joined(separator: " · ")
        }
        return """
            <section aria-labelledby="population"><h2 id="population">Population (from this extract, \(escape(p.asOf)))</h2>
            <p>Segments of the \(p.listSize) registered patients: \(list(p.segments)).</p>
            <p>Frailty, aged 65+: \(list(p.frailty)). QRISK3-2017 ten-year risk, aged 25–84 without CVD: \(list(p.qrisk3)).</p>
            <p class="note">For population planning, not an individual's care. \(escape(QRISK3.disclaimer))</p>
            </section>
            """
    }

    static func completenessNotice(_ d: ReportData) -> String {
        var items: [String] = []
        if !d.notComputable.isEmpty {
            items.append("<strong>Cannot be computed (code lists missing):</strong> \(escape(d.notComputable.joined(separator: ", "))). "
                + "Their achievement is not shown and they are not counted as at stake; import the official clusters with <code>qofd clusters import</code>.")
        }
        let partial = d.incomplete.filter { !d.notComputable.contains($0) }
        if !partial.isEmpty {
            items.append("<strong>Incomplete code lists:</strong> \(escape(partial.joined(separator: ", "))) (see each indicator).")
        }
        if !d.unverifiedFigures.isEmpty {
            items.append("<strong>Unverified national figures:</strong> \(escape(d.unverifiedFigures.joined(separator: "; "))).")
        }
        return items.isEmpty ? "" : "<div class=\"notice\">" + items.map { "<p>\($0)</p>" }.joined() + "</div>"
    }

    /// One row per indicator, for spreadsheets.
    public static func csv(_ d: ReportData) -> String {
        var out = "practice,ruleset,achievement_date,indicator,group,register_size,denominator,numerator,exclusions,pcas,tallies,achievement,"
            + "lower_threshold,upper_threshold,target,points,max_points,pounds,pounds_available,pounds_at_stake,patients_for_next_point,"
            + "change_since_previous_run,change_since_last_year,code_lists,computable,missing_clusters,stand_in_clusters\n"
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "" }
        func money(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "" }
        let programme = d.rulesetKind == "programme"
        for i in d.indicators {
            let ex = i.exclusions.values.reduce(0, +)
            let pca = i.pcas.values.reduce(0, +)
            let tallies = i.tallies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
            let c = i.completeness
            out += "\(d.practice),\(d.ruleset),\(d.achievementDate),\(i.id),\(i.group),\(i.registerSize),\(i.denominator),\(i.numerator),\(ex),\(pca),\(tallies),"
            // A figure computed on missing code lists is not a measurement: the CSV leaves it empty.
            out += "\(c.computable ? f(i.achievement) : ""),\(programme ? "" : "\(i.lowerThreshold)"),\(programme ? "" : "\(i.upperThreshold)"),\(i.target.map { "\($0)" } ?? ""),"
            out += "\(programme ? "" : f(i.points)),\(programme ? "" : "\(i.maxPoints)"),\(money(i.pounds)),\(money(i.poundsAvailable)),\(money(i.poundsAtStake)),"
            out += "\(i.patientsForNextPoint.map(String.init) ?? ""),\(f(i.changeSincePreviousRun)),\(f(i.changeSinceLastYear)),"
            out += "\(c.status.rawValue),\(c.computable),\(c.missing.joined(separator: ";")),\(c.standIns.joined(separator: ";"))\n"
        }
        return out
    }

    /// The CQRS INDICATOR_VALUES layout for this practice (register, denominator, numerator, every field).
    public static func cqrs(_ d: ReportData) -> String {
        var out = "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION,QOFD_CODE_LISTS\n"
        let parts = d.ruleset.split(separator: "-")
        let service = parts.count == 3 ? parts[0].uppercased() + parts[1].suffix(2) + parts[2] : d.ruleset.uppercased()
        let date = d.achievementDate.replacingOccurrences(of: "-", with: "")
        let name = d.rulesetTitle.replacingOccurrences(of: ",", with: " ")
        // Income-protected indicators are not computed (paid at last year's points): no rows, rather than zeros.
        for i in d.indicators where i.incomeProtected != true {
            // CQRS's rows for the indicator, in CQRS's order; an empty register name: CQRS reports no register row.
            var rows: [(String, Int)] = [("Denominator", i.denominator), ("Numerator", i.numerator)]
            if !i.registerName.isEmpty { rows.append((i.registerName, i.registerSize)) }
            rows += (i.exclusions.merging(i.pcas) { a, _ in a }.merging(i.tallies) { a, _ in a }).map { ($0.key, $0.value) }
            for (field, value) in rows.sorted(by: { Ruleset.cqrsOrder($0.0, $1.0) }) { out += "\(service),\(name),\(d.practice),\(date),\(i.id),\(field),\(value),N,AUTOMATED,,,Y,\(i.completeness.label)\n" }
        }
        return out
    }

    /// The report as JSON (sorted keys, indented): `ReportData` field by field.
    public static func json(_ d: ReportData) -> Data { d.jsonValue.data() }

    /// A FHIR R4 MeasureReport (see `FHIRMeasureReport`).
    public static func fhir(_ d: ReportData) -> Data { FHIRMeasureReport.json(d).data() }

    /// 1 April before the date (the QOF year's start).
    static func startOfYear(_ date: String) -> String {
        let y = Int(date.prefix(4)) ?? 2000
        let m = Int(date.dropFirst(5).prefix(2)) ?? 4
        return "\(m >= 4 ? y : y - 1)-04-01"
    }
}
