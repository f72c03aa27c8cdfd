import Foundation

/// The six census ethnic groups of each recorded ethnicity concept (OpenSAFELY's SNOMED CT
/// ethnicity code list, `Label_6`), for breaking achievement down by ethnic group.
public struct EthnicGroups: Sendable {
    public let groups: [UInt64: String]
    /// The 2001 census 16-group number (1 White British … 16 any other) of each concept, for risk models
    /// that use finer groups (QRISK3).
    public let groups16: [UInt64: Int]

    public init(groups: [UInt64: String], groups16: [UInt64: Int] = [:]) {
        self.groups = groups
        self.groups16 = groups16
    }

    public subscript(concept: UInt64) -> String? { groups[concept] }

    /// The shipped list.
    public static func bundled() throws -> EthnicGroups {
        guard let url = Bundle.module.url(forResource: "codelists/opensafely-ethnicity-snomed-0removed", withExtension: "csv")
            ?? Bundle.module.url(forResource: "codelists", withExtension: nil)?.appending(path: "opensafely-ethnicity-snomed-0removed.csv")
        else { throw CodeListError("the bundled ethnicity code list is missing from this build") }
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next()?.split(separator: ",").map(String.init), let label = header.firstIndex(of: "Label_6") else {
            throw CodeListError("\(url.lastPathComponent): no Label_6 column")
        }
        let sixteen = header.firstIndex(of: "Grouping_16")
        var groups: [UInt64: String] = [:], groups16: [UInt64: Int] = [:]
        while let line = lines.next() {
            // Only the first (code) and last columns are needed; terms may hold quoted commas, so count from the end.
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard let code = f.first.flatMap({ UInt64($0) }), f.count >= header.count else { continue }
            groups[code] = String(f[f.count - (header.count - label)]).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            if let sixteen, let n = Int(f[f.count - (header.count - sixteen)]) { groups16[code] = n }
        }
        return EthnicGroups(groups: groups, groups16: groups16)
    }
}
