import Clinical

/// A long-term condition as the generator models it: its diagnosis cluster, how common it is in
/// England, and how that varies with age. Prevalences approximate England's published QOF
/// prevalence (2023/24, NHS England) and are scaled by the age structure below, so a practice of
/// typical make-up lands close to the national figure.
struct ConditionModel: Sendable {
    enum ID: String, CaseIterable, Sendable {
        case hypertension, diabetes, asthma, copd, chd, af, stroke, heartFailure, ckd, smi, dementia, depression,
            ndh, cancer, learningDisability, epilepsy, pad
    }

    let id: ID
    /// Cluster whose codes record the diagnosis (e.g. HYP_COD).
    let cluster: String
    /// Target prevalence over the published list type (all ages for TOTAL, else ages ≥ `listAge`).
    let prevalence: Double
    /// The age floor of the list the prevalence is published over (0 = whole list, 17 = 17OV, …).
    let listAge: Int
    let minimumAge: Int
    /// Relative risk by age (piecewise linear between knots).
    let ageKnots: [(age: Int, risk: Double)]
    /// Share of patients whose diagnosis was later resolved with `resolvedCluster`.
    let resolvedShare: Double
    let resolvedCluster: String?

    func relativeRisk(_ age: Int) -> Double {
        guard age >= minimumAge else { return 0 }
        if age <= ageKnots[0].age { return ageKnots[0].risk }
        for i in 1..<ageKnots.count where age <= ageKnots[i].age {
            let (a0, r0) = ageKnots[i - 1]
            let (a1, r1) = ageKnots[i]
            return r0 + (r1 - r0) * Double(age - a0) / Double(a1 - a0)
        }
        return ageKnots[ageKnots.count - 1].risk
    }

    static let all: [ConditionModel] = [
        .init(id: .hypertension, cluster: "HYP_COD", prevalence: 0.148, listAge: 0, minimumAge: 18,
              ageKnots: [(18, 0.02), (35, 0.08), (50, 0.35), (65, 0.85), (80, 1.25), (95, 1.3)],
              resolvedShare: 0.02, resolvedCluster: "HYPRES_COD"),
        .init(id: .diabetes, cluster: "DM_COD", prevalence: 0.077, listAge: 17, minimumAge: 17,
              ageKnots: [(17, 0.05), (40, 0.35), (60, 1.3), (75, 1.9), (95, 1.4)],
              resolvedShare: 0.01, resolvedCluster: "DMRES_COD"),
        .init(id: .asthma, cluster: "AST_COD", prevalence: 0.065, listAge: 6, minimumAge: 6,
              ageKnots: [(6, 1.1), (20, 1.0), (60, 0.9), (90, 0.8)], resolvedShare: 0.05, resolvedCluster: "ASTRES_COD"),
        .init(id: .copd, cluster: "COPD_COD", prevalence: 0.019, listAge: 0, minimumAge: 35,
              ageKnots: [(35, 0.1), (55, 0.8), (70, 2.2), (90, 2.6)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .chd, cluster: "CHD_COD", prevalence: 0.030, listAge: 0, minimumAge: 30,
              ageKnots: [(30, 0.05), (55, 0.6), (70, 2.0), (85, 3.5)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .af, cluster: "AFIB_COD", prevalence: 0.022, listAge: 0, minimumAge: 30,
              ageKnots: [(30, 0.02), (60, 0.6), (75, 2.5), (90, 5.0)], resolvedShare: 0.02, resolvedCluster: nil),
        .init(id: .stroke, cluster: "STRK_COD", prevalence: 0.019, listAge: 0, minimumAge: 30,
              ageKnots: [(30, 0.05), (60, 0.8), (75, 2.2), (90, 3.8)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .heartFailure, cluster: "HF_COD", prevalence: 0.011, listAge: 0, minimumAge: 40,
              ageKnots: [(40, 0.05), (65, 0.7), (80, 3.0), (95, 5.0)], resolvedShare: 0.03, resolvedCluster: "HFRES_COD"),
        .init(id: .ckd, cluster: "CKD_COD", prevalence: 0.041, listAge: 18, minimumAge: 18,
              ageKnots: [(18, 0.02), (50, 0.3), (70, 2.0), (90, 5.0)], resolvedShare: 0.03, resolvedCluster: "CKDRES_COD"),
        .init(id: .smi, cluster: "MH_COD", prevalence: 0.0096, listAge: 0, minimumAge: 16,
              ageKnots: [(16, 0.6), (30, 1.1), (60, 1.0), (90, 0.7)], resolvedShare: 0.03, resolvedCluster: nil),
        .init(id: .dementia, cluster: "DEM_COD", prevalence: 0.0072, listAge: 0, minimumAge: 50,
              ageKnots: [(50, 0.01), (70, 0.3), (80, 3.0), (95, 10.0)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .depression, cluster: "DEPR_COD", prevalence: 0.133, listAge: 18, minimumAge: 18,
              ageKnots: [(18, 1.0), (40, 1.1), (70, 0.8), (90, 0.7)], resolvedShare: 0.1, resolvedCluster: "DEPRES_COD"),
        .init(id: .ndh, cluster: "NDH_COD", prevalence: 0.060, listAge: 18, minimumAge: 18,
              ageKnots: [(18, 0.05), (45, 0.6), (65, 1.6), (85, 2.0)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .cancer, cluster: "pcd-solid-cancer-diagnosis-codes", prevalence: 0.036, listAge: 0, minimumAge: 0,
              ageKnots: [(0, 0.02), (40, 0.3), (65, 1.6), (85, 3.5)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .learningDisability, cluster: "LD_COD", prevalence: 0.006, listAge: 0, minimumAge: 0,
              ageKnots: [(0, 1.0), (60, 0.8), (90, 0.3)], resolvedShare: 0, resolvedCluster: nil),
        .init(id: .epilepsy, cluster: "EPIL_COD", prevalence: 0.008, listAge: 18, minimumAge: 18,
              ageKnots: [(18, 1.0), (90, 1.0)], resolvedShare: 0.02, resolvedCluster: "EPILRES_COD"),
        .init(id: .pad, cluster: "PAD_COD", prevalence: 0.006, listAge: 0, minimumAge: 40,
              ageKnots: [(40, 0.1), (65, 1.2), (85, 3.0)], resolvedShare: 0, resolvedCluster: nil),
    ]
}

/// England's population by five-year age band (ONS mid-2021 estimates, percent), the share of
/// women in each band, and the helpers that turn it into ages.
enum AgeStructure {
    static let bands: [(from: Int, to: Int, percent: Double, female: Double)] = [
        (0, 4, 5.4, 0.488), (5, 9, 5.9, 0.488), (10, 14, 6.0, 0.488), (15, 19, 5.6, 0.487), (20, 24, 6.0, 0.494),
        (25, 29, 6.6, 0.502), (30, 34, 6.9, 0.506), (35, 39, 6.7, 0.505), (40, 44, 6.3, 0.504), (45, 49, 6.4, 0.507),
        (50, 54, 6.9, 0.508), (55, 59, 6.7, 0.508), (60, 64, 5.9, 0.512), (65, 69, 5.0, 0.518), (70, 74, 5.0, 0.527),
        (75, 79, 3.6, 0.545), (80, 84, 2.5, 0.572), (85, 89, 1.5, 0.615), (90, 99, 0.8, 0.69),
    ]

    static func sampleAge(_ r: inout SynthRandom) -> Int {
        var x = r.unit() * bands.reduce(0) { $0 + $1.percent }
        for band in bands {
            if x < band.percent { return band.from + r.int(0...(band.to - band.from)) }
            x -= band.percent
        }
        return 90
    }

    static func femaleShare(_ age: Int) -> Double {
        bands.first { age >= $0.from && age <= $0.to }?.female ?? 0.5
    }

    /// Scale factor so that Σ over the age structure of risk(age) × scale = target prevalence over
    /// the eligible ages.
    static func scale(for condition: ConditionModel) -> Double {
        var weighted = 0.0
        var eligible = 0.0
        for band in bands {
            let years = Double(band.to - band.from + 1)
            for age in band.from...band.to {
                weighted += band.percent / years * condition.relativeRisk(age)
                if age >= condition.listAge { eligible += band.percent / years }
            }
        }
        return weighted > 0 ? condition.prevalence * eligible / weighted : 0
    }
}
