import Foundation
import Web
import Yams

/// Everything `qofd serve` needs, from a YAML file with environment overrides (`QOFD_<OPTION>` in
/// upper case). Secrets (the database password) come from a file or a systemd credential, never
/// from the command line. An invalid configuration names the option at fault.
public struct DaemonConfiguration: Sendable, Equatable {
    /// libpq URL or conninfo; nil for the embedded private cluster.
    public var databaseURL: String?
    /// A file holding the database password (e.g. `$CREDENTIALS_DIRECTORY/db-password`).
    public var databasePasswordFile: String?
    public var stateDirectory: String
    public var inbox: String
    public var archive: String
    public var quarantine: String
    /// Where each practice's declaration reports are written after every run.
    public var reports: String
    /// Seconds between inbox scans.
    public var pollInterval: Double
    /// Full recomputation of every practice's latest extract: hour and minute each day (e.g. 02:00).
    public var recomputeAt: String?
    public var rulesets: [String]
    public var rulesDirectory: String?
    public var clustersDirectory: String?
    /// Newer national figures (`<ruleset>.yaml`) and income-protection points (`<ruleset>-income-protection.csv`).
    public var nationalDirectory: String?
    /// HTTP listen address, loopback by default.
    public var listen: String
    public var logLevel: String
    /// Concurrent workers in this process (each with its own connection). One more than the cores by
    /// default: while a worker waits for its commit to reach the disk, another has its core.
    public var workers: Int
    public var leaseSeconds: Int
    /// Attempts at one extract before it is given up on and quarantined with the last error.
    public var maxAttempts = 5
    public var storePatientOutcomes: Bool
    /// Make and store each extract's population health summary (segments, frailty, QRISK3, Core20PLUS5).
    public var populationSummary = true
    /// A directory of the site's own cohort and case-finding files (`.yaml`, the shipped cohorts' vocabulary),
    /// shown beside the shipped ones.
    public var cohortsDirectory: String?
    /// Years of patient-level outcomes to keep (current and previous QOF year by default).
    public var patientOutcomeYears: Int
    /// The web view's sign-in: local accounts or a trusted proxy header.
    public var web: WebSettings

    public static let keys: [String] = [
        "database_url", "database_password_file", "state_dir", "inbox", "archive", "quarantine", "reports", "poll_interval",
        "recompute_at", "rulesets", "rules_dir", "clusters_dir", "listen", "log_level", "workers", "lease_seconds", "max_attempts",
        "store_patient_outcomes", "patient_outcome_years", "web_auth", "web_proxy_header", "web_secure_cookies", "web_session_minutes", "reference_dir",
        "national_dir", "population_summary", "cohorts_dir",
    ]

    /// The defaults under a state directory.
    /// One worker more than the machine has cores (at most 64).
    public static var defaultWorkers: Int { min(64, ProcessInfo.processInfo.activeProcessorCount + 1) }

    public init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        databaseURL = nil
        databasePasswordFile = nil
        inbox = stateDirectory + "/inbox"
        archive = stateDirectory + "/archive"
        quarantine = stateDirectory + "/quarantine"
        reports = stateDirectory + "/reports"
        pollInterval = 30
        recomputeAt = "02:00"
        rulesets = ["qof-2025-26"]
        rulesDirectory = nil
        clustersDirectory = nil
        listen = "127.0.0.1:8470"
        logLevel = "info"
        workers = Self.defaultWorkers
        leaseSeconds = 120
        storePatientOutcomes = true
        patientOutcomeYears = 2
        web = WebSettings()
    }

    /// Reads `file` (YAML mapping), then applies `QOFD_*` variables from `environment`.
    public static func load(file: String?, environment: [String: String], defaultStateDirectory: String) throws -> DaemonConfiguration {
        var values: [String: String] = [:]
        var lists: [String: [String]] = [:]
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigurationError(option: nil, message: "cannot read the configuration file \(file)")
            }
            let node: Node?
            do { node = try Yams.compose(yaml: text) } catch {
                throw ConfigurationError(option: nil, message: "\(file) is not valid YAML: \(error)")
            }
            for (k, v) in node?.mapping ?? [:] {
                guard let key = k.scalar?.string else { continue }
                guard keys.contains(key) else {
                    throw ConfigurationError(option: key, message: "unknown option (line \((k.mark?.line).map(String.init) ?? "?")); known: \(keys.joined(separator: ", "))")
                }
                if let seq = v.sequence { lists[key] = seq.compactMap { $0.scalar?.string } } else if let s = v.scalar?.string { values[key] = s }
            }
        }
        for key in keys {
            if let v = environment["QOFD_" + key.uppercased()] { values[key] = v; lists[key] = nil }
        }
        if let url = environment["QOFD_DATABASE_URL"], !url.isEmpty { values["database_url"] = url }
        var c = DaemonConfiguration(stateDirectory: values["state_dir"] ?? environment["STATE_DIRECTORY"]?.split(separator: ":").first.map(String.init) ?? defaultStateDirectory)
        c.databaseURL = values["database_url"].flatMap { $0.isEmpty ? nil : $0 }
        c.databasePasswordFile = values["database_password_file"]
        if c.databasePasswordFile == nil, let creds = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: creds + "/db-password")
        {
            c.databasePasswordFile = creds + "/db-password"
        }
        c.inbox = values["inbox"] ?? c.inbox
        c.archive = values["archive"] ?? c.archive
        c.quarantine = values["quarantine"] ?? c.quarantine
        c.reports = values["reports"] ?? stateOrDefault(c, "reports")
        c.recomputeAt = values["recompute_at"] ?? c.recomputeAt
        c.rulesDirectory = values["rules_dir"]
        c.clustersDirectory = values["clusters_dir"]
        c.listen = values["listen"] ?? c.listen
        c.logLevel = values["log_level"] ?? c.logLevel
        if let list = lists["rulesets"] { c.rulesets = list } else if let s = values["rulesets"] {
            c.rulesets = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        func number<T: LosslessStringConvertible>(_ key: String, _ current: T) throws -> T {
            guard let s = values[key] else { return current }
            guard let v = T(s) else { throw ConfigurationError(option: key, message: "must be a number, not '\(s)'") }
            return v
        }
        c.pollInterval = try number("poll_interval", c.pollInterval)
        c.workers = try number("workers", c.workers)
        c.leaseSeconds = try number("lease_seconds", c.leaseSeconds)
        c.maxAttempts = try number("max_attempts", c.maxAttempts)
        c.patientOutcomeYears = try number("patient_outcome_years", c.patientOutcomeYears)
        if let s = values["web_auth"] {
            guard let a = WebSettings.Authentication(rawValue: s) else {
                throw ConfigurationError(option: "web_auth", message: "must be local or proxy")
            }
            c.web.authentication = a
        }
        c.web.proxyHeader = values["web_proxy_header"] ?? c.web.proxyHeader
        c.web.referenceDirectory = values["reference_dir"]
        c.nationalDirectory = values["national_dir"]
        c.cohortsDirectory = values["cohorts_dir"]
        c.web.sessionMinutes = try number("web_session_minutes", c.web.sessionMinutes)
        if let s = values["web_secure_cookies"] {
            guard let b = ["true": true, "yes": true, "false": false, "no": false][s.lowercased()] else {
                throw ConfigurationError(option: "web_secure_cookies", message: "must be true or false")
            }
            c.web.secureCookies = b
        }
        if let s = values["population_summary"] {
            guard let b = ["true": true, "yes": true, "false": false, "no": false][s.lowercased()] else {
                throw ConfigurationError(option: "population_summary", message: "must be true or false")
            }
            c.populationSummary = b
        }
        if let s = values["store_patient_outcomes"] {
            guard let b = ["true": true, "yes": true, "false": false, "no": false][s.lowercased()] else {
                throw ConfigurationError(option: "store_patient_outcomes", message: "must be true or false")
            }
            c.storePatientOutcomes = b
        }
        try c.validate()
        return c
    }

    public func validate() throws {
        guard pollInterval >= 1 else { throw ConfigurationError(option: "poll_interval", message: "must be at least 1 second") }
        guard (1...64).contains(workers) else { throw ConfigurationError(option: "workers", message: "must be between 1 and 64") }
        guard leaseSeconds >= 10 else { throw ConfigurationError(option: "lease_seconds", message: "must be at least 10") }
        guard (1...100).contains(maxAttempts) else { throw ConfigurationError(option: "max_attempts", message: "must be between 1 and 100") }
        guard patientOutcomeYears >= 1 else { throw ConfigurationError(option: "patient_outcome_years", message: "must be at least 1") }
        guard (5...1440).contains(web.sessionMinutes) else {
            throw ConfigurationError(option: "web_session_minutes", message: "must be between 5 and 1440")
        }
        guard web.proxyHeader.range(of: "^[A-Za-z0-9-]+$", options: .regularExpression) != nil else {
            throw ConfigurationError(option: "web_proxy_header", message: "must be a header name such as X-Remote-User")
        }
        if let dir = web.referenceDirectory, !FileManager.default.fileExists(atPath: dir + "/imd2025_lsoa21_england.csv") {
            throw ConfigurationError(option: "reference_dir", message: "\(dir) holds no imd2025_lsoa21_england.csv")
        }
        guard !rulesets.isEmpty else { throw ConfigurationError(option: "rulesets", message: "name at least one ruleset") }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigurationError(option: "log_level", message: "must be trace, debug, info, notice, warning, error or critical")
        }
        guard listenAddress != nil else { throw ConfigurationError(option: "listen", message: "must be HOST:PORT, e.g. 127.0.0.1:8470") }
        if let t = recomputeAt, Self.parseTime(t) == nil {
            throw ConfigurationError(option: "recompute_at", message: "must be HH:MM (24-hour), e.g. 02:00")
        }
        for (key, path) in [("inbox", inbox), ("archive", archive), ("quarantine", quarantine), ("reports", reports)] where !path.hasPrefix("/") {
            throw ConfigurationError(option: key, message: "must be an absolute path")
        }
    }

    /// Host and port of `listen`.
    public var listenAddress: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    static func parseTime(_ s: String) -> (hour: Int, minute: Int)? {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
        return (h, m)
    }

    /// The conninfo to use, with the password file applied (never logged).
    public func conninfo(embedded: String) throws -> String {
        guard let url = databaseURL else { return embedded }
        guard let file = databasePasswordFile else { return url }
        guard let password = try? String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) else {
            throw ConfigurationError(option: "database_password_file", message: "cannot read \(file)")
        }
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return url.contains("://") ? url + (url.contains("?") ? "&" : "?") + "password=" + (password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            : url + " password='\(escaped)'"
    }
}

/// A directory under the state directory.
private func stateOrDefault(_ c: DaemonConfiguration, _ name: String) -> String { c.stateDirectory + "/" + name }

/// A configuration that cannot be used, naming the option.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let option: String?
    public let message: String
    public var description: String { option.map { "configuration option '\($0)': \(message)" } ?? "configuration: \(message)" }
}
