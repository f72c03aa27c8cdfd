import Foundation

/// A JSON document built directly and written with sorted keys and two-space indentation: the shape
/// Foundation's `JSONEncoder` gives (`.sortedKeys`, `.prettyPrinted`), without its per-value boxing,
/// which made JSON the slowest of the report formats on Linux. Reports are written after every run.
enum JSONValue {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// An optional number, or null.
    static func number(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }

    /// The document as UTF-8 text.
    func data() -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(16 << 10)
        write(into: &out, indent: 0)
        return Data(out)
    }

    private func write(into out: inout [UInt8], indent: Int) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): out += String(i).utf8
        case .number(let x):
            if !x.isFinite {
                out += "null".utf8
            } else if x == x.rounded(), abs(x) < 1e15 {
                out += String(Int(x)).utf8  // as Foundation writes whole numbers: 38, not 38.0
            } else {
                out += x.description.utf8
            }
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]".utf8; return }
            out += "[\n".utf8
            for (i, item) in items.enumerated() {
                Self.pad(indent + 1, into: &out)
                item.write(into: &out, indent: indent + 1)
                out += (i == items.count - 1 ? "\n" : ",\n").utf8
            }
            Self.pad(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            let present = members.filter { if case .null = $0.1 { return false } else { return true } }.sorted { $0.0 < $1.0 }
            guard !present.isEmpty else { out += "{}".utf8; return }
            out += "{\n".utf8
            for (i, (key, value)) in present.enumerated() {
                Self.pad(indent + 1, into: &out)
                Self.quote(key, into: &out)
                out += " : ".utf8
                value.write(into: &out, indent: indent + 1)
                out += (i == present.count - 1 ? "\n" : ",\n").utf8
            }
            Self.pad(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func pad(_ level: Int, into out: inout [UInt8]) {
        for _ in 0..<(2 * level) { out.append(32) }
    }

    private static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(34)
        for b in s.utf8 {
            switch b {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(34)
    }
}
