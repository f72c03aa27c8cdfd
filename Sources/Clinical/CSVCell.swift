/// One value made safe for a CSV file a person opens in a spreadsheet: quoted when it holds a comma, quote or
/// line break, and neutralised when it starts like a formula (`=`, `+`, `-`, `@`, tab, carriage return), so a
/// value from an extract can never run as a spreadsheet formula (CSV injection). Numbers stay numbers.
public enum CSVCell {
    public static func safe(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(v) == nil {
            v = "'" + v
        }
        guard v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
        var quoted = "\""
        for c in v { quoted += c == "\"" ? "\"\"" : String(c) }
        return quoted + "\""
    }

    /// A row of safe cells.
    public static func row(_ values: [String]) -> String { values.map(safe).joined(separator: ",") }
}
