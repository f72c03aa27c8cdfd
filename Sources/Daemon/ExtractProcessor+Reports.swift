import Clinical
import Foundation
import Logging
import Metrics
import Postgres
import Reports
import RulesEngine
import Storage

/// What a processor says after storing: the reports it writes and the completeness of the code lists it announces.
extension ExtractProcessor {
    /// Writes a practice's reports (every format) for each ruleset and achievement date from the stored
    /// results, when a reports directory is configured. Reports are a product of the stored results: a
    /// failure here is logged and never undoes a run.
    /// With `onlyIfChanged`, a run whose figures are those of the run before it for the same date leaves its
    /// reports as they are (when they are all there): a week that changed nothing rewrites nothing.
    func writeReports(practice: String, for runs: [(ruleset: Ruleset, achievementDate: Day)], onlyIfChanged: Bool = false,
                      using conn: PostgresConnection) async {
        guard let reportsDirectory else { return }
        for run in runs {
            do {
                if onlyIfChanged, ReportFormat.allCases.allSatisfy({ format in
                    FileManager.default.fileExists(atPath: reportsDirectory.appending(path: practice)
                        .appending(path: "\(run.ruleset.id)-\(run.achievementDate).\(format.fileExtension)").path)
                }), try await conn.withTransaction({ c in
                    try PracticeHistory.figuresUnchanged(practice: practice, ruleset: run.ruleset.id, achievementDate: run.achievementDate, in: c)
                }) {
                    continue
                }
                if let data = try await conn.withTransaction({ c in
                    try ReportData.load(practice: practice, ruleset: run.ruleset, achievementDate: run.achievementDate, in: c)
                }) {
                    try ReportWriter.write(data, formats: ReportFormat.allCases, to: reportsDirectory)
                }
            } catch {
                logger.error("could not write reports", metadata: ["practice": "\(practice)", "ruleset": "\(run.ruleset.id)", "error": "\(error)"])
            }
        }
    }

    /// Says which indicators rest on missing code lists under the configured library: logged once (at start and
    /// after a reload) and counted in /metrics (`qofd_indicators_incomplete`, `qofd_indicators_not_computable`).
    public func announceCompleteness() {
        for r in rulesets {
            guard let compiled = try? compiledCache.compiled(r, achievementDate: r.payPeriodEnd, library: library) else { continue }
            let incomplete = compiled.completeness.filter { $0.value.status == .missing }
            let notComputable = incomplete.filter { !$0.value.computable }.keys.sorted()
            Gauge(label: "qofd_indicators_incomplete", dimensions: [("ruleset", r.id)]).record(incomplete.count)
            Gauge(label: "qofd_indicators_not_computable", dimensions: [("ruleset", r.id)]).record(notComputable.count)
            guard !incomplete.isEmpty else { continue }
            logger.warning("indicators rest on missing code lists; their figures are flagged, and those that cannot be computed are not shown",
                           metadata: ["ruleset": "\(r.id)", "incomplete": "\(incomplete.keys.sorted().joined(separator: ","))",
                                      "notComputable": "\(notComputable.joined(separator: ","))",
                                      "fix": "qofd clusters import, or CLUSTER.csv files in clusters_dir"])
        }
    }
}
