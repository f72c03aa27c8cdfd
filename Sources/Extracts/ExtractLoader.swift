import Clinical
import Crypto
import Foundation

/// Opens an extract directory, checks it against its manifest, and reads it into a `Population`.
///
/// File-level problems (missing or unreadable manifest, checksum or row-count mismatch, wrong
/// columns, non-UTF-8 bytes, truncation, too many bad rows) reject the extract; row-level problems
/// drop the row and are counted. Nothing is ever half-loaded: a rejected extract yields no population.
public struct ExtractLoader: Sendable {
    /// Above this share of rows with problems, the extract is rejected rather than used.
    public var maxRowProblemFraction: Double
    /// How many row problems to list per file (the rest are counted).
    public var problemsListedPerFile: Int
    /// Read only who the patients are (a CSV extract's `patients.csv`, checked against the manifest like every
    /// file): a population with no records, for views that need demographics beside stored outcomes. FHIR
    /// extracts are read whole.
    public var patientsOnly = false

    public init(maxRowProblemFraction: Double = 0.01, problemsListedPerFile: Int = 100) {
        self.maxRowProblemFraction = maxRowProblemFraction
        self.problemsListedPerFile = problemsListedPerFile
    }

    /// True when the directory holds a manifest (the exporter writes it last).
    public static func isComplete(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appending(path: Manifest.fileName).path)
    }

    /// Checks and reads an extract.
    public func load(_ directory: URL) -> ExtractCheck {
        var problems = ProblemLog(limitPerFile: problemsListedPerFile)
        let manifestURL = directory.appending(path: Manifest.fileName)
        if (try? FileManager.default.attributesOfItem(atPath: manifestURL.path))?[.type] as? FileAttributeType == .typeSymbolicLink {
            problems.file(Manifest.fileName, "is a symbolic link; extracts hold plain files only")
            return ExtractCheck(directory: directory, sha256: nil, manifest: nil, population: nil, problems: problems, rowCounts: [:])
        }
        guard let manifestData = try? Data(contentsOf: manifestURL) else {
            problems.file(Manifest.fileName, "missing or unreadable: the extract is incomplete")
            return ExtractCheck(directory: directory, sha256: nil, manifest: nil, population: nil, problems: problems, rowCounts: [:])
        }
        let sha = sha256Hex(manifestData)
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: manifestData)
        } catch {
            problems.file(Manifest.fileName, "not a valid qofd-extract/1 manifest: \(describe(error))")
            return ExtractCheck(directory: directory, sha256: sha, manifest: nil, population: nil, problems: problems, rowCounts: [:])
        }
        guard let dataTo = validate(manifest, &problems) else {
            return ExtractCheck(directory: directory, sha256: sha, manifest: manifest, population: nil, problems: problems, rowCounts: [:])
        }
        let info = PracticeInfo(
            ods: manifest.practice.ods, name: manifest.practice.name, pcnODS: manifest.pcn?.ods, pcnName: manifest.pcn?.name)
        var files: [String: Data] = [:]
        let onlyPatients = patientsOnly && manifest.encoding == .csv
        for entry in manifest.files where !onlyPatients || entry.name == "patients.csv" {
            let url = directory.appending(path: entry.name)
            // Only plain files of the extract itself: a link could point anywhere on the machine.
            let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
            guard type == nil || type == .typeRegular else {
                problems.file(Manifest.printable(entry.name), type == .typeSymbolicLink ? "is a symbolic link; extracts hold plain files only" : "is not a plain file")
                continue
            }
            guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
                problems.file(entry.name, "listed in the manifest but missing or unreadable")
                continue
            }
            let actual = sha256Hex(data)
            if actual != entry.sha256.lowercased() {
                problems.file(entry.name, "SHA-256 does not match the manifest (file changed or truncated)")
            }
            data.withUnsafeBytes { bytes in
                if let bad = firstInvalidUTF8(bytes) {
                    let (line, column) = lineAndColumn(of: bad, in: bytes)
                    problems.file(entry.name, line: line, column: "byte \(column)", "not valid UTF-8")
                }
            }
            files[entry.name] = data
        }
        if problems.isRejected {
            return ExtractCheck(directory: directory, sha256: sha, manifest: manifest, population: nil, problems: problems, rowCounts: [:])
        }

        let built: PopulationBuilder
        let rowCounts: [String: Int]
        switch manifest.encoding {
        case .csv:
            var reader = CSVExtractReader(population: PopulationBuilder(practice: info, dataTo: dataTo), problems: problems)
            files["patients.csv"]!.withUnsafeBytes { reader.readPatients($0) }
            if onlyPatients {
                let none = [Int32](repeating: 0, count: reader.population.patientCount + 1)
                (reader.population.registrationOffsets, reader.population.eventOffsets, reader.population.medicationOffsets) = (none, none, none)
            } else {
                files["registrations.csv"]!.withUnsafeBytes { reader.readRegistrations($0) }
                files["events.csv"]!.withUnsafeBytes { reader.readEvents($0) }
                files["medications.csv"]!.withUnsafeBytes { reader.readMedications($0) }
            }
            built = reader.population
            problems = reader.problems
            rowCounts = reader.rowCounts
        case .fhirNDJSON:
            var reader = FHIRExtractReader(population: PopulationBuilder(practice: info, dataTo: dataTo), problems: problems)
            reader.read(files)
            built = reader.population
            problems = reader.problems
            rowCounts = reader.rowCounts
        }
        for entry in manifest.files {
            if let counted = rowCounts[entry.name], counted != entry.rows {
                problems.file(entry.name, "has \(counted) data rows but the manifest says \(entry.rows) (truncated?)")
            }
        }
        // The readers only make populations that fit together; were one not to, the extract is refused whole.
        var population: Population?
        do { population = try built.build() } catch { problems.file("extract", "could not be assembled: \(error.description)") }
        let totalRows = rowCounts.values.reduce(0, +)
        if totalRows > 0, Double(problems.rowProblemTotal) > maxRowProblemFraction * Double(totalRows) {
            problems.file(
                "extract",
                "\(problems.rowProblemTotal) of \(totalRows) rows have problems, more than the \(maxRowProblemFraction * 100)% allowed")
        }
        return ExtractCheck(
            directory: directory, sha256: sha, manifest: manifest, population: problems.isRejected ? nil : population,
            problems: problems, rowCounts: rowCounts)
    }

    private func validate(_ m: Manifest, _ problems: inout ProblemLog) -> Day? {
        let file = Manifest.fileName
        if m.format != Manifest.currentFormat {
            problems.file(file, column: "format", "format is \(m.format), expected \(Manifest.currentFormat)")
        }
        if m.practice.ods.range(of: #"^[A-Z][0-9]{5}$"#, options: .regularExpression) == nil {
            problems.file(file, column: "practice.ods", "not a practice ODS code (a letter and 5 digits)")
        }
        if let pcn = m.pcn, pcn.ods.range(of: #"^U[0-9]{5}$"#, options: .regularExpression) == nil {
            problems.file(file, column: "pcn.ods", "not a PCN ODS code (U and 5 digits)")
        }
        let dataTo = Day(iso: m.dataTo)
        if dataTo == nil || m.dataTo.count != 10 { problems.file(file, column: "dataTo", "not a valid date (YYYY-MM-DD)") }
        if let d = dataTo, d < Day(year: 1990, month: 1, day: 1)! || d > Day(year: 2200, month: 1, day: 1)! {
            problems.file(file, column: "dataTo", "\(d) is not a plausible data-to date (1990 to 2199)")
        }
        if Manifest.timestamp(m.extractedAt) == nil {
            problems.file(file, column: "extractedAt", "not an ISO 8601 date and time (e.g. 2026-04-02T06:00:00Z)")
        }
        let required: [String] = switch m.encoding {
        case .csv: ["patients.csv", "registrations.csv", "events.csv", "medications.csv"]
        case .fhirNDJSON: ["Patient.ndjson"]
        }
        let names = m.files.map(\.name)
        for name in required where !names.contains(name) {
            problems.file(file, column: "files", "does not list \(name)")
        }
        for entry in m.files {
            if entry.name.contains("/") || entry.name.hasPrefix(".") || entry.name.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) {
                problems.file(file, column: "files", "file name \(Manifest.printable(entry.name)) must be a plain name in the extract directory")
            }
            if m.encoding == .csv, CSVExtractReader.columns[entry.name] == nil {
                problems.file(file, column: "files", "unknown CSV file \(Manifest.printable(entry.name))")
            }
        }
        return problems.isRejected ? nil : dataTo
    }

    private func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not JSON" : "bad value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "unreadable"
        }
    }
}

/// The outcome of checking an extract: its identity, its problems, and the population when accepted.
public struct ExtractCheck: Sendable {
    public let directory: URL
    /// SHA-256 of the manifest (which carries every file's SHA-256): the extract's identity.
    public let sha256: String?
    public let manifest: Manifest?
    /// nil when the extract is rejected.
    public let population: Population?
    public let problems: ProblemLog
    public let rowCounts: [String: Int]

    public var isRejected: Bool { population == nil }

    /// An extract the pipeline gave up on (it failed again and again): quarantined with the reason.
    public static func failed(_ directory: URL, reason: String) -> ExtractCheck {
        var problems = ProblemLog()
        problems.file(Manifest.fileName, Manifest.printable(reason))
        return ExtractCheck(directory: directory, sha256: nil, manifest: nil, population: nil, problems: problems, rowCounts: [:])
    }
}

/// Lower-case hex SHA-256.
public func sha256Hex(_ data: some DataProtocol) -> String {
    SHA256.hash(data: data).map { b in
        let hex = Array("0123456789abcdef")
        return "\(hex[Int(b >> 4)])\(hex[Int(b & 15)])"
    }.joined()
}
