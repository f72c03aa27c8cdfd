import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A finished child process: what it printed, how long it ran, and its peak resident memory (from
/// the kernel's own accounting, `wait4`), so every phase's memory is measured the same way.
struct ChildResult {
    var status: Int32
    var output: String
    var seconds: Double
    var peakMiB: Double
}

/// Runs `arguments[0]` with the rest, stdout captured, stderr passed through.
func spawn(_ arguments: [String]) throws -> ChildResult {
    let out = FileManager.default.temporaryDirectory.appending(path: "icb-child-\(getpid())-\(UUID().uuidString.prefix(6)).out")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: out) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, out.path, O_WRONLY | O_TRUNC, 0o644)
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = ContinuousClock.now
    let r = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
    guard r == 0 else { throw BenchmarkError("cannot start \(arguments[0]): \(String(cString: strerror(r)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let output = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ChildResult(status: exit, output: output, seconds: seconds, peakMiB: Double(usage.ru_maxrss) / 1024)
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The JSON object a child printed on its last line.
func lastJSON(_ text: String) throws -> [String: Any] {
    guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    else { throw BenchmarkError("no JSON result in: \(text.suffix(500))") }
    return object
}

/// A shell word, quoted.
func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
