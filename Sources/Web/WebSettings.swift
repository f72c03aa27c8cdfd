import Clusters
import Foundation
import Logging
import Payments
import Postgres
import RulesEngine
import Stratification

/// How the web view signs people in and keeps them signed in.
public struct WebSettings: Sendable, Equatable {
    /// `local`: accounts with bcrypt-hashed passwords (`qofd user add`). `proxy`: a trusted reverse
    /// proxy has authenticated the user and names them in `proxyHeader` (the account must exist for
    /// its role and scope). Only use `proxy` when the daemon is reachable through that proxy alone.
    public enum Authentication: String, Sendable, CaseIterable {
        case local, proxy
    }

    public var authentication: Authentication
    public var proxyHeader: String
    /// Mark cookies Secure (set when served over HTTPS through a proxy).
    public var secureCookies: Bool
    public var sessionMinutes: Int
    /// A directory with newer IMD and LSOA lookup files (see `Deprivation`); nil: the shipped ones.
    public var referenceDirectory: String?

    public init(authentication: Authentication = .local, proxyHeader: String = "X-Remote-User", secureCookies: Bool = false,
                sessionMinutes: Int = 480, referenceDirectory: String? = nil) {
        self.referenceDirectory = referenceDirectory
        self.authentication = authentication
        self.proxyHeader = proxyHeader
        self.secureCookies = secureCookies
        self.sessionMinutes = sessionMinutes
    }
}

/// What the web view reads from the running daemon on each request (replaced on SIGHUP reload).
public struct WebInputs: Sendable {
    public var rulesets: [Ruleset]
    public var library: ClusterLibrary
    public var archive: URL
    public var settings: WebSettings
    /// National payment figures per ruleset, as the pipeline read them (pounds on the dashboard).
    public var nationalFigures: [String: NationalFigures]
    /// Where the daemon writes its reports (served at `/reports` to signed-in users); nil when none are written.
    public var reports: URL?
    /// The population health models and cohorts the pipeline uses (its code lists and the site's cohort files);
    /// nil: the shipped ones.
    public var population: PopulationStratifier?

    public init(rulesets: [Ruleset], library: ClusterLibrary, archive: URL, settings: WebSettings,
                nationalFigures: [String: NationalFigures], reports: URL? = nil, population: PopulationStratifier? = nil) {
        self.reports = reports
        self.population = population
        self.nationalFigures = nationalFigures
        self.rulesets = rulesets
        self.library = library
        self.archive = archive
        self.settings = settings
    }
}

/// The web view's own database connection, opened on first use and reopened after it is lost.
actor WebDatabase {
    let conninfo: String
    let logger: Logger
    private var connection: PostgresConnection?

    init(conninfo: String, logger: Logger) {
        self.conninfo = conninfo
        self.logger = logger
    }

    /// Runs `body` in one transaction (a consistent read of several tables).
    func run<T: Sendable>(_ body: @escaping @Sendable (isolated PostgresConnection) throws -> T) async throws -> T {
        let conn: PostgresConnection
        if let c = connection { conn = c } else {
            conn = try await PostgresConnection.connect(conninfo, logger: logger)
            connection = conn
        }
        do {
            return try await conn.withTransaction(body)
        } catch let e as PostgresError where [.connectionLost, .connectionClosed, .connectionFailed].contains(e.code) {
            connection = nil
            await conn.close()
            throw e
        }
    }
}
