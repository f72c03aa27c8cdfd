import Clinical
import Clusters
import Extracts
import Foundation
import Hummingbird
import Logging
import Payments
import Postgres
import RulesEngine
import Storage
import Stratification
import Synth
import Web

/// `qofd demo --serve`: a year of extracts per practice, demo accounts, and the web view on loopback.
extension DemoCommand {
    /// Earlier extracts of each practice, every four weeks from 1 September, as a practice sending
    /// regular extracts would have produced them.
    static func writeHistory(_ written: [Synthesizer.Written], to inbox: URL) throws -> Int {
        let start = Day(year: 2025, month: 9, day: 1)!
        var count = 0
        for w in written {
            guard let population = ExtractLoader().load(w.directory).population else { continue }
            for day in stride(from: 6, through: 206, by: 28).map({ start.adding(days: $0) }) where day < population.dataTo {
                _ = try CSVExtractWriter.write(population.asOf(day), to: inbox.appending(path: "\(w.practice.ods)-\(day)"))
                count += 1
            }
        }
        return count
    }

    static func serveWebView(
        conninfo: String, conn: PostgresConnection, practices: [PracticeInfo], archive: URL, rulesets: [Ruleset], library: ClusterLibrary,
        population: PopulationStratifier, port: Int
    ) async throws {
        // Demo accounts with fresh random passwords: a practice user, a PCN lead, a commissioner.
        let password = { String(WebAccounts.randomToken().prefix(16)) }
        let first = practices[0]
        let accounts: [(WebAccounts.User, String)] = [
            (.init(username: "practice", role: .practice, scope: first.ods, patientAccess: true, right: .declare, passwordHash: nil), password()),
            (.init(username: "pcnlead", role: .pcn, scope: first.pcnODS, patientAccess: true, right: .declare, passwordHash: nil), password()),
            (.init(username: "commissioner", role: .commissioner, scope: nil, patientAccess: false, right: .approve, passwordHash: nil), password()),
        ]
        try await conn.withTransaction { c in
            for (var user, secret) in accounts {
                user.passwordHash = WebApp.hashPassword(secret, cost: 10)
                try WebAccounts.save(user, in: c)
            }
        }
        let settings = WebSettings()
        let figures = Dictionary(uniqueKeysWithValues: try rulesets.compactMap { r in try NationalFigures.loadIfPresent(year: r.id).map { (r.id, $0) } })
        let web = try await WebApp(conninfo: conninfo, logger: Logger(label: "qofd.web")) {
            WebInputs(rulesets: rulesets, library: library, archive: archive, settings: settings, nationalFigures: figures, population: population)
        }
        let router = Router()
        web.register(on: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "qofd"))
        print("""

            Web view: http://127.0.0.1:\(port)/   (Ctrl-C to stop)
              practice      \(accounts[0].1)   sees \(first.ods), with patient worklists and explanations; declares
              pcnlead       \(accounts[1].1)   sees PCN \(first.pcnODS ?? "-") and its practices, with patients; declares the PCN's DES
              commissioner  \(accounts[2].1)   sees every practice, aggregate figures only; approves or returns declarations
            """)
        fflush(nil)
        try await app.runService()
    }
}
