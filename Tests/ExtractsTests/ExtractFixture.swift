import Extracts
import Foundation
import TestSupport

/// Builds a small CSV extract on disk for a test, with a correct manifest unless told otherwise.
struct ExtractFixture {
    var patients = """
        patient_id,nhs_number,date_of_birth,sex,date_of_death,lsoa,ethnicity
        P1,9434765919,1950-06-01,F,,E01000001,976631000000101
        P2,,1980-01-31,M,,,
        P3,,2001-12-25,U,2025-11-01,,

        """
    var registrations = """
        patient_id,start_date,end_date
        P1,2000-01-01,
        P2,2010-05-05,
        P3,2001-12-25,2025-11-01

        """
    var events = """
        patient_id,date,code,value,value2,unit
        P1,2025-06-01,38341003,,,
        P1,2026-01-12,75367002,146,88,mm[Hg]
        P2,2024-04-01,195967001,,,

        """
    var medications = """
        patient_id,date,code,quantity
        P2,2026-02-01,10409611000001103,28

        """
    var dataTo = "2026-03-31"
    /// Changes applied to the manifest's file entries after they are computed.
    var tamperManifest: ((inout [Manifest.File]) -> Void)?
    var rawFiles: [String: [UInt8]] = [:]
    var writeManifest = true

    func write() throws -> URL {
        let dir = TestFolders.make("fixture")
            .appending(path: "A81001-\(dataTo)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var entries: [Manifest.File] = []
        for (name, text) in [
            ("patients.csv", patients), ("registrations.csv", registrations), ("events.csv", events),
            ("medications.csv", medications),
        ] {
            let bytes = rawFiles[name] ?? Array(text.utf8)
            try Data(bytes).write(to: dir.appending(path: name))
            let lines = text.utf8.split(separator: 10).filter { !$0.elementsEqual([13]) }.count
            entries.append(Manifest.File(name: name, rows: max(0, lines - 1), sha256: sha256Hex(Data(bytes))))
        }
        tamperManifest?(&entries)
        if writeManifest {
            let manifest = Manifest(
                encoding: .csv, practice: .init(ods: "A81001", name: "The Surgery"), pcn: .init(ods: "U12345", name: "North PCN"),
                system: "EMIS Web", extractedAt: "2026-04-01T01:00:00Z", dataTo: dataTo, files: entries)
            try manifest.encoded().write(to: dir.appending(path: Manifest.fileName))
        }
        return dir
    }

    func check(maxRowProblems: Double = 0.5) throws -> ExtractCheck {
        ExtractLoader(maxRowProblemFraction: maxRowProblems).load(try write())
    }
}
