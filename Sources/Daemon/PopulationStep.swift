import Clinical
import Clusters
import Foundation
import ReferenceData
import Stratification

/// The pipeline's population health step: the models, read with the processor's own code lists (a site's
/// imported clusters too) and its cohort files, and the deprivation table, made once when the processor is made;
/// then the summary of each extract's population on its data-to date (stored with its runs).
public struct PopulationStep: Sendable {
    public let stratifier: PopulationStratifier
    let deprivation: Deprivation

    public init(library: ClusterLibrary, referenceDirectory: URL? = nil, cohortsDirectory: URL? = nil) throws {
        stratifier = try PopulationStratifier(library: library, ethnicGroups: try EthnicGroups.bundled(),
                                              cohortFiles: try Self.cohortFiles(in: cohortsDirectory))
        deprivation = try referenceDirectory.map { try Deprivation.imd2025AcceptingLSOA2011(directory: $0) } ?? Deprivation.bundledAcceptingLSOA2011.get()
    }

    /// The `.yaml` files of a site's cohorts directory, by name (none without one).
    static func cohortFiles(in directory: URL?) throws -> [URL] {
        guard let directory else { return [] }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw ConfigurationError(option: "cohorts_dir", message: "\(directory.path) cannot be read")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { directory.appending(path: $0) }
    }

    /// `patientLevel`: each patient's segment, frailty and QRISK3 too (kept like patient outcomes).
    func summary(_ population: Population, patientLevel: Bool) -> (PopulationSummary, String) {
        (stratifier.summarise(population, on: population.dataTo, decile: { deprivation.areas[$0]?.decile }, patientLevel: patientLevel),
         stratifier.modelsSHA256)
    }
}
