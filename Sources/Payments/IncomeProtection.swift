import Foundation

/// The points each practice is paid for its income-protected indicators (2024/25: 32 indicators fixed
/// at the practice's 2023/24 points, facts §3.5). Per-practice reference data, read from last year's
/// achieved-points file in the CQRS `INDICATOR_ACHIEVED_POINTS` layout (`ORG_CODE`, `IND_CODE`,
/// `POINTS`), so a site drops in what CQRS shows and needs no build.
public struct IncomeProtection: Sendable {
    /// Practice ODS code → indicator → protected points.
    public var points: [String: [String: Double]]

    public init(points: [String: [String: Double]] = [:]) { self.points = points }

    /// Reads an achieved-points CSV; errors name the file and line.
    public static func read(_ text: String, file: String) throws -> IncomeProtection {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw PaymentError("\(file): empty file")
        }
        guard let cOrg = header.firstIndex(of: "ORG_CODE"), let cInd = header.firstIndex(of: "IND_CODE"),
            let cPoints = header.firstIndex(of: "POINTS") ?? header.firstIndex(of: "ACHIEVED_POINTS")
        else { throw PaymentError("\(file) line 1: needs ORG_CODE, IND_CODE and POINTS columns") }
        var points: [String: [String: Double]] = [:]
        for (n, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == header.count else { throw PaymentError("\(file) line \(n + 1): has \(f.count) fields, the header has \(header.count)") }
            guard let v = Double(f[cPoints]), v >= 0 else { throw PaymentError("\(file) line \(n + 1): POINTS must be a number of points") }
            points[f[cOrg], default: [:]][f[cInd]] = v
        }
        return IncomeProtection(points: points)
    }

    /// `<year>-income-protection.csv` beside the year's national figures, when present.
    static func load(year: String, directory: URL?) throws -> IncomeProtection {
        let name = "\(year)-income-protection"
        let url = directory?.appending(path: "\(name).csv") ?? Bundle.module.url(forResource: name, withExtension: "csv")
        guard let url, FileManager.default.fileExists(atPath: url.path) else { return IncomeProtection() }
        return try read(try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
    }
}
