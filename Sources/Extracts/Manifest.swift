import Foundation

/// `manifest.json`: what an extract directory holds. Written last by the exporter, so an extract
/// without one is incomplete and is left alone.
public struct Manifest: Codable, Sendable, Hashable {
    public static let currentFormat = "qofd-extract/1"

    public struct Organisation: Codable, Sendable, Hashable {
        public var ods: String
        public var name: String
        public init(ods: String, name: String) {
            self.ods = ods
            self.name = name
        }
    }

    public struct File: Codable, Sendable, Hashable {
        public var name: String
        /// Data rows (CSV: without the header; NDJSON: records).
        public var rows: Int
        public var sha256: String
        public init(name: String, rows: Int, sha256: String) {
            self.name = name
            self.rows = rows
            self.sha256 = sha256
        }
    }

    public enum Encoding: String, Codable, Sendable {
        case csv
        case fhirNDJSON = "fhir-ndjson"
    }

    /// `extractedAt` as a moment: ISO 8601 with a time zone (`Z` or an offset), seconds optional fractions.
    public static func timestamp(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    /// Text from a manifest made safe to show and store: control characters (NUL included) as `\u{…}`.
    public static func printable(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars { out += s.value < 32 || s.value == 127 ? "\\u{\(String(s.value, radix: 16))}" : String(s) }
        return out
    }

    public var format: String
    public var encoding: Encoding
    public var practice: Organisation
    public var pcn: Organisation?
    public var system: String
    public var extractedAt: String
    public var dataTo: String
    public var files: [File]

    public init(
        encoding: Encoding, practice: Organisation, pcn: Organisation?, system: String, extractedAt: String,
        dataTo: String, files: [File]
    ) {
        self.format = Manifest.currentFormat
        self.encoding = encoding
        self.practice = practice
        self.pcn = pcn
        self.system = system
        self.extractedAt = extractedAt
        self.dataTo = dataTo
        self.files = files
    }

    public static let fileName = "manifest.json"

    /// Encodes with stable key order, for writing.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
