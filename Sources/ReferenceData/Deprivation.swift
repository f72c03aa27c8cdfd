import Foundation

/// English Index of Multiple Deprivation by LSOA: rank, decile and quintile (1 = most deprived).
///
/// Loaded from the published files shipped with qofd (IMD 2025 on 2021 LSOAs, IMD 2019 on 2011
/// LSOAs with the ONS lookup), or from a directory a site provides.
public struct Deprivation: Sendable {
    public struct Area: Sendable, Hashable {
        public let lsoa: String
        public let rank: Int
        public let decile: Int
        public var quintile: Int { (decile + 1) / 2 }
    }

    public let edition: String
    public let areas: [String: Area]

    public init(edition: String, areas: [Area]) {
        self.edition = edition
        self.areas = Dictionary(areas.map { ($0.lsoa, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// IMD 2025 (2021 LSOAs), as shipped.
    public static func imd2025() throws -> Deprivation {
        guard let url = Bundle.module.url(forResource: "imd2025_lsoa21_england", withExtension: "csv") else {
            throw ReferenceDataError("the bundled IMD 2025 file is missing from this build")
        }
        return try load(url, edition: "IMD 2025", codeColumn: "lsoa21cd", rankColumn: "imd25_rank", decileColumn: "imd25_decile")
    }

    /// Reads an IMD CSV with the named columns.
    public static func load(_ url: URL, edition: String, codeColumn: String, rankColumn: String, decileColumn: String) throws
        -> Deprivation
    {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next()?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }),
            let c = header.firstIndex(of: codeColumn), let r = header.firstIndex(of: rankColumn),
            let d = header.firstIndex(of: decileColumn)
        else { throw ReferenceDataError("\(url.lastPathComponent): expected columns \(codeColumn), \(rankColumn), \(decileColumn)") }
        var areas: [Area] = []
        while let line = lines.next() {
            // LSOA names may contain commas only when quoted; the columns we need are unquoted codes and numbers.
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count, let rank = Int(fields[r]), let decile = Int(fields[d]) else { continue }
            areas.append(Area(lsoa: String(fields[c]), rank: rank, decile: decile))
        }
        return Deprivation(edition: edition, areas: areas)
    }
}

/// Reference data that could not be read.
public struct ReferenceDataError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Deprivation {
    /// The same from a site's own directory holding `imd2025_lsoa21_england.csv` (columns lsoa21cd,
    /// imd25_rank, imd25_decile) and, optionally, `lsoa11_lsoa21_lookup_ew.csv`: reference data a user
    /// can update without a build.
    public static func imd2025AcceptingLSOA2011(directory: URL) throws -> Deprivation {
        let imd = directory.appending(path: "imd2025_lsoa21_england.csv")
        let base = try load(imd, edition: "IMD 2025 (\(imd.path))", codeColumn: "lsoa21cd", rankColumn: "imd25_rank", decileColumn: "imd25_decile")
        guard base.areas.count > 0 else { throw ReferenceDataError("\(imd.path) holds no areas") }
        let lookup = directory.appending(path: "lsoa11_lsoa21_lookup_ew.csv")
        guard let text = try? String(contentsOf: lookup, encoding: .utf8) else { return base }
        return base.adding(lookup: text)
    }

    /// `imd2025AcceptingLSOA2011()` read once per process (the pipeline's processors and the web view share it).
    public static let bundledAcceptingLSOA2011: Result<Deprivation, any Error> = Result { try imd2025AcceptingLSOA2011() }

    /// IMD 2025 with 2011 LSOA codes mapped onto 2021 ones through the ONS lookup (an extract may
    /// carry either). A 2011 LSOA split into several 2021 LSOAs takes the most deprived of them.
    public static func imd2025AcceptingLSOA2011() throws -> Deprivation {
        let base = try imd2025()
        guard let url = Bundle.module.url(forResource: "lsoa11_lsoa21_lookup_ew", withExtension: "csv") else {
            throw ReferenceDataError("the bundled LSOA 2011 to 2021 lookup is missing from this build")
        }
        return base.adding(lookup: try String(contentsOf: url, encoding: .utf8))
    }

    /// Adds the 2011 codes of a `lsoa11cd,…,lsoa21cd,…` lookup to this (2021-based) table.
    public func adding(lookup text: String) -> Deprivation {
        var lines = text.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next()?.split(separator: ",").map(String.init),
            let old = header.firstIndex(of: "lsoa11cd"), let new = header.firstIndex(of: "lsoa21cd")
        else { return self }
        var merged = areas
        while let line = lines.next() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count > max(old, new), let area = areas[String(f[new])] else { continue }
            let code = String(f[old])
            if let existing = merged[code], existing.lsoa == code || existing.rank <= area.rank { continue }
            merged[code] = Area(lsoa: code, rank: area.rank, decile: area.decile)
        }
        return Deprivation(edition: edition + " (2011 LSOAs through the ONS lookup)", areas: Array(merged.values))
    }
}
