// Writes a Swift file holding every migration file's name and text:
//   embed-migrations OUTPUT.swift sql/0001_init.sql sql/0002_….sql
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: embed-migrations OUTPUT FILE...\n".utf8))
    exit(2)
}
var source = "// Generated from sql/ by the EmbedMigrations plugin. Do not edit.\n\n"
source += "let embeddedMigrationFiles: [(name: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let text = try String(contentsOf: url, encoding: .utf8)
    // A raw string whose delimiter cannot occur in the file.
    var hashes = "#"
    while text.contains("\"" + hashes) || text.contains("\"\"\"" + hashes) { hashes += "#" }
    source += "    (name: \"\(url.lastPathComponent)\", sql: \(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)),\n"
}
source += "]\n"
try source.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
