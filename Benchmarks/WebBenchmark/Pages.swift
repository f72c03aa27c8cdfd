import Clinical
import Foundation
import Postgres
import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// The indicators with the longest worklists (denominator not yet achieving) in a practice's latest runs.
enum Worklists {
    static let rulesets = ["qof-2025-26", "flu-2025-26"]

    static func longest(practice: String, in conn: PostgresConnection) async throws -> [(ruleset: String, indicator: String, patients: Int)] {
        var out: [(String, String, Int)] = []
        for r in rulesets {
            guard let id = try await StoredFigures.latestRunID(practice: practice, ruleset: r, in: conn),
                let figures = try await StoredFigures.load(run: id, in: conn),
                let top = figures.indicators.max(by: { $0.denominator - $0.numerator < $1.denominator - $1.numerator })
            else { continue }
            out.append((r, top.id, top.denominator - top.numerator))
        }
        return out
    }
}

/// Every page a user opens, for each sampled practice, in the order a user opens them.
struct PagePlan {
    struct Page {
        var kind: String
        var path: String
        /// A patient-level page whose first opening reads and evaluates the practice's extract.
        var patientLevel: Bool
        /// For the patient explanation: the worklist export whose first patient it explains.
        var explainFrom: String?
        var ruleset: String?
    }

    var practices: [(ods: String, pages: [Page])] = []
    var longestWorklist = 0

    mutating func add(practice ods: String, pcn: String?, worklists: [(ruleset: String, indicator: String, patients: Int)]) {
        var pages = [Page(kind: "home", path: "/", patientLevel: false)]
        for w in worklists {
            let q = "?ruleset=\(w.ruleset)"
            pages.append(Page(kind: "practice dashboard", path: "/practice/\(ods)\(q)", patientLevel: false))
            pages.append(Page(kind: "indicator + worklist", path: "/practice/\(ods)/indicator/\(w.indicator)\(q)", patientLevel: true))
            pages.append(Page(kind: "worklist CSV", path: "/practice/\(ods)/indicator/\(w.indicator)/worklist.csv\(q)", patientLevel: true))
            pages.append(Page(kind: "patient explanation", path: "/practice/\(ods)/patient", patientLevel: true,
                              explainFrom: "/practice/\(ods)/indicator/\(w.indicator)/worklist.csv\(q)", ruleset: w.ruleset))
            longestWorklist = max(longestWorklist, w.patients)
        }
        pages.append(Page(kind: "practice inequalities", path: "/practice/\(ods)/inequalities", patientLevel: true))
        if let pcn {
            pages.append(Page(kind: "PCN page", path: "/pcn/\(pcn)", patientLevel: false))
            pages.append(Page(kind: "PCN inequalities", path: "/pcn/\(pcn)/inequalities", patientLevel: true))
        }
        practices.append((ods, pages))
    }

    /// Opens every page `repeats` times, practice by practice; returns milliseconds per page kind, with
    /// whether each opening was the practice's first (cold).
    func visit(_ client: HTTPClient, repeats: Int, log: (String) -> Void) throws -> [String: [(ms: Double, cold: Bool)]] {
        var timings: [String: [(Double, Bool)]] = [:]
        let csrf = try token(client)
        for (n, practice) in practices.enumerated() {
            for round in 0..<repeats {
                for page in practice.pages {
                    var response: HTTPClient.Response
                    var ms: Double
                    if let source = page.explainFrom {
                        let csv = try client.get(source).body.split(separator: "\n")
                        let patient = csv.count > 1 ? String(csv[1].split(separator: ",")[0]) : "none"
                        let start = ContinuousClock.now
                        response = try client.post(page.path, form: [("csrf", csrf), ("patient", patient), ("ruleset", page.ruleset ?? ""), ("indicator", "")])
                        ms = (ContinuousClock.now - start) / .milliseconds(1)
                    } else {
                        let start = ContinuousClock.now
                        response = try client.get(page.path)
                        ms = (ContinuousClock.now - start) / .milliseconds(1)
                    }
                    guard response.status == 200 else { throw ClientError("\(page.path) answered \(response.status)") }
                    timings[page.kind, default: []].append((ms, round == 0 && page.patientLevel))
                }
            }
            if (n + 1) % 10 == 0 { log("  visited \(n + 1) of \(practices.count) practices") }
        }
        return timings
    }

    private func token(_ client: HTTPClient) throws -> String {
        let home = try client.get("/").body
        guard let r = home.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression) else { throw ClientError("no CSRF token on the home page") }
        return String(home[r].split(separator: "\"")[3])
    }
}

/// Signs in through the real form (CSRF token from the sign-in page, session cookie from the answer).
func signIn(_ client: HTTPClient, user: String, password: String) throws {
    let page = try client.get("/login").body
    guard let r = page.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression) else { throw ClientError("no sign-in form") }
    let csrf = String(page[r].split(separator: "\"")[3])
    let answer = try client.post("/login", form: [("csrf", csrf), ("username", user), ("password", password)])
    guard answer.status == 303 else { throw ClientError("sign-in answered \(answer.status)") }
}

/// A free loopback TCP port.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Starts a child process with stdout and stderr to `log`.
func spawn(_ program: String, _ args: [String], log: URL) throws -> pid_t {
    FileManager.default.createFile(atPath: log.path, contents: nil)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, program, &actions, nil, argv, environ) == 0 else { throw ClientError("cannot start \(program)") }
    return pid
}
