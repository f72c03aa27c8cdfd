import Clinical
import Postgres
import Storage
import Stratification

extension ExtractProcessor {
    /// A cohort intervention followed into an extract: its members, and those who have left the cohort.
    struct CohortFollow: Sendable {
        var intervention: Int64
        var members: [InterventionStore.Member]
        var reached: Set<String>
    }

    /// For each of the practice's cohort interventions frozen before this extract: who has left the cohort (still
    /// registered, and no longer meeting it: the gap closed). Patients who left the practice or died have not.
    func cohortFollows(_ population: Population, using conn: PostgresConnection) async throws -> [CohortFollow] {
        guard let step = self.population else { return [] }
        let ods = population.practice.ods, day = population.dataTo
        let interventions = try await conn.withTransaction { c in try InterventionStore.cohortInterventions(practice: ods, before: day, in: c) }
        guard !interventions.isEmpty else { return [] }
        let deprivation = step.deprivation
        let finder = CohortFinder(stratifier: step.stratifier, population: population, decile: { deprivation.areas[$0]?.decile })
        let rows = Dictionary(population.patientIDs.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return interventions.compactMap { i in
            guard let cohort = step.stratifier.cohorts.first(where: { $0.id == i.cohort }) else {
                logger.warning("an intervention's cohort is no longer defined; not followed", metadata: ["intervention": "\(i.id)", "cohort": "\(i.cohort)"])
                return nil
            }
            let reached = Set(i.members.compactMap { m -> String? in
                guard let p = rows[m.patient], population.isRegisteredAndAlive(p, on: day), !finder.contains(p, cohort, on: day) else { return nil }
                return m.patient
            })
            return CohortFollow(intervention: i.id, members: i.members, reached: reached)
        }
    }
}
