import Clinical
import Foundation
import RulesEngine

/// The CQRS extract layouts (NHS Digital QOF publication metadata): per-indicator field values
/// (`INDICATOR_VALUES`) and achieved points (`INDICATOR_ACHIEVED_POINTS`). qofd writes both from its
/// results, and reads the values back so a site holding only aggregate GPES counts gets the same
/// achievement and payment reports.
public enum CQRSFiles {
    /// CQRS's columns, then qofd's own last column: how complete the code lists behind the indicator are
    /// (complete, stand-in, missing, not computable). Readers that go by column name ignore it.
    public static let valuesHeader =
        "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION,QOFD_CODE_LISTS"
    public static let pointsHeader = "QUALITY_SERVICE,ORG_CODE,ACH_DATE,IND_CODE,POINTS,APPROVED"

    /// `qof-2025-26` → `QOF2526`.
    public static func qualityService(_ rulesetID: String) -> String {
        let parts = rulesetID.split(separator: "-")
        guard parts.count == 3, parts[1].count == 4, parts[2].count == 2 else { return rulesetID.uppercased() }
        return parts[0].uppercased() + parts[1].suffix(2) + parts[2]
    }

    /// `QOF2526` → `qof-2025-26`.
    public static func rulesetID(_ service: String) -> String? {
        let letters = service.prefix { $0.isLetter }
        let digits = service.dropFirst(letters.count)
        guard digits.count == 4, let start = Int(digits.prefix(2)) else { return nil }
        return "\(letters.lowercased())-20\(String(format: "%02d", start))-\(digits.suffix(2))"
    }

    static func cqrsDate(_ d: Day) -> String {
        let c = d.components
        return String(format: "%04d%02d%02d", c.year, c.month, c.day)
    }

    /// INDICATOR_VALUES rows: the register, denominator, numerator and every PCA / exclusion field. Income-protected
    /// indicators have none: qofd does not compute them (they are paid at last year's points, in the points file),
    /// and a row of zeros would read as achievement of nothing.
    public static func values(_ results: [PracticeResult], ruleset: Ruleset, achievementDate: Day, submitted: Date = Date()) -> String {
        let service = qualityService(ruleset.id)
        let name = ruleset.title.replacingOccurrences(of: ",", with: " ")
        let definitions = Dictionary(ruleset.indicators.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Europe/London")
        f.dateFormat = "dd/MM/yyyy"
        let submitDate = f.string(from: submitted)
        f.dateFormat = "HH:mm:ss"
        let submitTime = f.string(from: submitted)
        var out = valuesHeader + "\n"
        for r in results {
            for i in r.indicators where definitions[i.id]?.payment != .protected {
                var rows: [(String, Int)] = definitions[i.id].map(Ruleset.cqrsReportsCounts) == false ? []
                    : [("Denominator", i.denominator), ("Numerator", i.numerator)]
                if let label = definitions[i.id].flatMap(ruleset.cqrsRegisterLabel) { rows.append((label, i.registerSize)) }
                rows += i.fields.map { ($0.key, $0.value) }
                for (field, value) in rows.sorted(by: { Ruleset.cqrsOrder($0.0, $1.0) }) {
                    out += "\(service),\(name),\(r.ods),\(cqrsDate(achievementDate)),\(i.id),\(field),\(value),N,AUTOMATED,\(submitDate),\(submitTime),Y,\(i.completeness.label)\n"
                }
            }
        }
        return out
    }

    /// INDICATOR_ACHIEVED_POINTS rows.
    public static func points(_ results: [PracticeResult], ruleset: Ruleset, achievementDate: Day, approved: Bool = false) -> String {
        var out = pointsHeader + "\n"
        for r in results {
            for i in r.indicators {
                out += "\(qualityService(ruleset.id)),\(r.ods),\(cqrsDate(achievementDate)),\(i.id),\(String(format: "%.2f", i.points)),\(approved ? "Approved" : "")\n"
            }
        }
        return out
    }

    /// One practice's figures read from an INDICATOR_VALUES file.
    public struct Imported: Sendable {
        public var ruleset: String
        public var achievementDate: Day
        public var result: PracticeResult
    }

    /// Reads an INDICATOR_VALUES file: only the latest submission per field is kept (`LAST_SUBMISSION=Y`,
    /// else the last row), points are recomputed from the ruleset's thresholds. Errors name the line.
    public static func read(_ text: String, rulesets: [String: Ruleset], listSizes: [String: Int] = [:]) throws -> [Imported] {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw CQRSError(line: 1, "empty file")
        }
        lines.removeFirst()
        func column(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else { throw CQRSError(line: 1, "no \(name) column") }
            return i
        }
        let (cService, cOrg, cDate, cInd, cField, cValue) = (
            try column("QUALITY_SERVICE"), try column("ORG_CODE"), try column("ACH_DATE"), try column("IND_CODE"), try column("FIELD_NAME"),
            try column("VALUE"))
        let cLast = header.firstIndex(of: "LAST_SUBMISSION")
        // (service, org, date) → indicator → field → value
        var data: [String: [String: [String: Int]]] = [:]
        var keys: [String: (String, String, Day)] = [:]
        for (n, line) in lines.enumerated() where !line.isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count else { throw CQRSError(line: n + 2, "has \(f.count) fields, the header has \(header.count)") }
            if let cLast, f[cLast] == "N" { continue }
            let raw = f[cDate]
            guard raw.count == 8, let y = Int(raw.prefix(4)), let m = Int(raw.dropFirst(4).prefix(2)), let d = Int(raw.suffix(2)),
                let day = Day(year: y, month: m, day: d)
            else { throw CQRSError(line: n + 2, "ACH_DATE must be YYYYMMDD") }
            guard let value = Int(f[cValue]), value >= 0 else { throw CQRSError(line: n + 2, "VALUE must be a whole number") }
            let key = "\(f[cService])|\(f[cOrg])|\(raw)"
            keys[key] = (f[cService], f[cOrg], day)
            data[key, default: [:]][f[cInd], default: [:]][f[cField]] = value
        }
        return try keys.keys.sorted().map { key in
            let (service, org, day) = keys[key]!
            guard let id = rulesetID(service), let ruleset = rulesets[id] else { throw CQRSError(line: nil, "no ruleset for quality service \(service)") }
            let registerNames = Dictionary(ruleset.registers.map { ($0.cqrsName, $0.id) }, uniquingKeysWith: { a, _ in a })
            var registers: [String: Int] = [:]
            var indicators: [IndicatorResult] = []
            for def in ruleset.indicators {
                guard let fields = data[key]?[def.id] else { continue }
                let registerName = ruleset.cqrsRegisterLabel(def)
                let size = registerName.flatMap { fields[$0] } ?? 0
                registers[def.register] = size
                let den = fields["Denominator"] ?? 0
                let num = fields["Numerator"] ?? 0
                let others = fields.filter { $0.key != "Denominator" && $0.key != "Numerator" && $0.key != registerName && registerNames[$0.key] == nil }
                let kinds = Dictionary((def.denominator.rules + def.numerator.rules).compactMap { r in r.field.map { ($0, r.kind) } }, uniquingKeysWith: { a, _ in a })
                let a = den > 0 ? 100 * Double(num) / Double(den) : nil
                indicators.append(IndicatorResult(
                    id: def.id, register: def.register, registerSize: size, denominator: den, numerator: num, fields: others,
                    fieldKinds: others.keys.reduce(into: [:]) { $0[$1] = kinds[$1] ?? .exclusion }, achievement: a,
                    points: indicatorPoints(def, achievement: a, registerSize: size),
                    maxPoints: def.points, ruleCounts: []))
            }
            let listSize = listSizes[org] ?? registers["LIST"] ?? 0
            return Imported(
                ruleset: ruleset.id, achievementDate: day,
                result: PracticeResult(ods: org, pcn: nil, listSize: listSize,
                                       registers: registers.sorted { $0.key < $1.key }.map { RegisterResult(id: $0.key, size: $0.value) },
                                       indicators: indicators, patients: nil))
        }
    }
}

/// A CQRS file that cannot be read, with the line at fault.
public struct CQRSError: Error, Sendable, CustomStringConvertible {
    public let line: Int?
    public let message: String
    public init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
