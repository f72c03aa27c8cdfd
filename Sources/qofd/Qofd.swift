import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The `qofd` command: QOF, DES and vaccination achievement for English general practice.
@main
struct Qofd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qofd",
        abstract: "QOF, DES and vaccination achievement for English general practice.",
        discussion: """
            qofd reads GP clinical-system extracts, evaluates versioned business rules, stores the results \
            in PostgreSQL and writes the declaration reports practices sign off. With no database \
            configured it runs its own private PostgreSQL cluster under the state directory.
            """,
        version: "0.1.0",
        subcommands: [DemoCommand.self, ServeCommand.self, ComputeCommand.self, ImportCQRSCommand.self, PCNCommand.self, FluSeasonCommand.self, FluCallListCommand.self, ItemOfServiceCommand.self, DeclareCommand.self, ApproveCommand.self, ReturnCommand.self, AuditCommand.self, ReportCommand.self, ExplainCommand.self, PopulationCommand.self, InterventionsCommand.self, UserCommand.self, ExtractCommand.self, SynthCommand.self, ClustersCommand.self, Migrate.self, Status.self]
    )

    /// Files qofd writes (archives, reports, call lists) are never world-readable, under systemd (UMask=0027)
    /// or not; patient-identifiable ones are made owner-only where they are written.
    static func main() async {
        umask(0o027)
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            // A problem found while running names the problem and the command's help, not the root usage line.
            let name = type(of: command).configuration.commandName ?? "qofd"
            FileHandle.standardError.write(Data("qofd \(name): \(error.message)\nSee 'qofd help \(name)'.\n".utf8))
            Foundation.exit(64)
        } catch {
            exit(withError: error)
        }
    }
}
