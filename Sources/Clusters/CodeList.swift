import Foundation

/// A named list of SNOMED CT or dm+d concepts: a Primary Care Domain cluster (`HYP_COD`) or
/// another published code list. Code lists are first-class values: versioned, loaded from files,
/// compared, and checked for codes a site is missing.
public struct CodeList: Sendable, Hashable {
    /// The name rules refer to, e.g. `HYP_COD`.
    public let name: String
    /// Where the list came from (file name and version), for the run's record.
    public let source: String
    public let concepts: Set<UInt64>
    /// Terms by concept, for explanations.
    public let terms: [UInt64: String]

    public init(name: String, source: String, concepts: Set<UInt64>, terms: [UInt64: String] = [:]) {
        self.name = name
        self.source = source
        self.concepts = concepts
        self.terms = terms
    }

    /// Reads a code-list CSV (`code,term` or OpenCodelists/CPRD layouts with `snomedct_conceptid`).
    public init(name: String, csv text: String, source: String) throws {
        var lines = text.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next() else { throw CodeListError("\(source): empty file") }
        let columns = splitCSVLine(String(header)).map { $0.lowercased() }
        guard let codeColumn = columns.firstIndex(where: { $0 == "code" || $0 == "snomedct_conceptid" || $0 == "dmd_id" })
        else { throw CodeListError("\(source): no code column (expected code or snomedct_conceptid)") }
        let termColumn = columns.firstIndex(where: { $0 == "term" || $0 == "description" })
        var concepts = Set<UInt64>()
        var terms: [UInt64: String] = [:]
        while let line = lines.next() {
            let fields = splitCSVLine(String(line))
            guard codeColumn < fields.count, let concept = UInt64(fields[codeColumn].trimmingCharacters(in: .whitespaces))
            else { continue }
            concepts.insert(concept)
            if let termColumn, termColumn < fields.count { terms[concept] = fields[termColumn] }
        }
        self.init(name: name, source: source, concepts: concepts, terms: terms)
    }

    /// A deterministic fingerprint of the concepts (for recording which version a run used).
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in concepts.sorted() {
            var v = c
            for _ in 0..<8 {
                h ^= v & 0xff
                h &*= 0x100_0000_01b3
                v >>= 8
            }
        }
        return String(h, radix: 16)
    }
}

/// A code list file that could not be read.
public struct CodeListError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Splits one CSV line with RFC 4180 quoting (code-list files are small; no embedded newlines).
func splitCSVLine(_ line: String) -> [String] {
    var fields: [String] = []
    var current = ""
    var quoted = false
    var chars = line.makeIterator()
    var pending: Character? = nil
    while let c = pending ?? chars.next() {
        pending = nil
        if quoted {
            if c == "\"" {
                if let next = chars.next() {
                    if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                } else { quoted = false }
            } else { current.append(c) }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            fields.append(current)
            current = ""
        } else if c != "\r" {
            current.append(c)
        }
    }
    fields.append(current)
    return fields
}
