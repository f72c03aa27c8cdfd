import Foundation
import Testing
import TestSupport

/// The shipped unit checked by systemd itself.
@Suite("systemd unit")
struct SystemdUnitTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func analyze(_ arguments: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["systemd-analyze"] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The unit with ExecStart pointing at the binary this build produced.
    func unit() throws -> URL {
        let text = try String(contentsOf: Self.repository.appending(path: "systemd/qofd.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/qofd", with: qofdExecutable().path)
        let dir = TestFolders.make("unit")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appending(path: "qofd.service")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test("systemd-analyze verify passes with no output at all")
    func verify() throws {
        let (status, output) = try analyze(["verify", try unit().path])
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(output)")
    }

    @Test("systemd-analyze security rates the unit 2.0 or lower")
    func security() throws {
        let (status, output) = try analyze(["security", "--offline=true", try unit().path])
        #expect(status == 0)
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(score <= 2.0, "\(line)")
    }
}
