import Clinical
import ReferenceData
import Stratification

/// The pipeline's population health step: the models and the deprivation table, made once per process, and
/// the summary of an extract's population on its data-to date (stored with its runs).
enum PopulationStep {
    /// nil when the models cannot be read (then extracts are stored without a population summary, and the log says so).
    static let shared: Result<(PopulationStratifier, Deprivation), any Error> = Result {
        (try PopulationStratifier.shipped.get(), try Deprivation.imd2025AcceptingLSOA2011())
    }

    static func summary(_ population: Population) -> (PopulationSummary, String)? {
        guard case .success(let (stratifier, deprivation)) = shared else { return nil }
        return (stratifier.summarise(population, on: population.dataTo, decile: { deprivation.areas[$0]?.decile }), stratifier.modelsSHA256)
    }
}
