// QRISK3-2017 in Swift. This module is distributed under the GNU Lesser General Public License v3 with
// ClinRisk Ltd.'s additional terms (Sources/QRISK3/LICENSE): the disclaimer (`QRISK3.disclaimer`) must be held
// together with any score, and displayed (or prominently linked) wherever a score is shown.
import Foundation

/// One person's QRISK3-2017 inputs, as the algorithm names them. Booleans are "recorded"; the caller says
/// which inputs were defaulted (see `QRISK3Inputs` in the callers) — this type only computes.
public struct QRISK3Input: Sendable, Hashable {
    public enum Sex: String, Sendable, Hashable { case female, male }
    /// Smoking as the algorithm codes it: non-smoker, ex-smoker, light (<10 a day), moderate (10–19), heavy (≥20).
    public enum Smoking: Int, Sendable, Hashable, CaseIterable { case non = 0, ex, light, moderate, heavy }

    public var age: Int
    public var sex: Sex
    /// 1 white or not stated, 2 Indian, 3 Pakistani, 4 Bangladeshi, 5 other Asian, 6 black Caribbean,
    /// 7 black African, 8 Chinese, 9 other (0 is treated as 1).
    public var ethnicity: Int
    public var smoking: Smoking
    public var bmi: Double
    /// Total cholesterol / HDL ratio.
    public var cholesterolRatio: Double
    public var systolic: Double
    /// Standard deviation of at least two recent systolic readings (0 when unknown, as QRISK3 does).
    public var systolicSD: Double
    /// Townsend deprivation score (0 = the national average). Not IMD: pass 0 and say so when unknown.
    public var townsend: Double
    public var atrialFibrillation = false
    public var atypicalAntipsychotics = false
    public var corticosteroids = false
    /// Erectile dysfunction (men only).
    public var erectileDysfunction = false
    public var migraine = false
    public var rheumatoidArthritis = false
    /// Chronic kidney disease stage 3–5.
    public var kidneyDisease = false
    public var severeMentalIllness = false
    public var lupus = false
    public var treatedHypertension = false
    public var type1Diabetes = false
    public var type2Diabetes = false
    /// Angina or heart attack in a first-degree relative under 60.
    public var familyHistory = false

    public init(age: Int, sex: Sex, ethnicity: Int, smoking: Smoking, bmi: Double, cholesterolRatio: Double, systolic: Double,
                systolicSD: Double, townsend: Double) {
        self.age = age
        self.sex = sex
        self.ethnicity = ethnicity
        self.smoking = smoking
        self.bmi = bmi
        self.cholesterolRatio = cholesterolRatio
        self.systolic = systolic
        self.systolicSD = systolicSD
        self.townsend = townsend
    }
}

/// QRISK3-2017: ten-year risk of cardiovascular disease, for people aged 25 to 84 without CVD. The model's
/// form (fractional-polynomial transforms of age and BMI, centring, ethnicity and smoking levels, booleans,
/// interactions with age) is written here; every coefficient is data (`qrisk3-2017.json`, copied from
/// ClinRisk's published source). For population use (planning, case finding), never for an individual's care.
public struct QRISK3: Sendable {
    /// ClinRisk's additional terms: held with every score, shown wherever one is displayed.
    public static let disclaimer = """
        QRISK3-2017 scores are computed by qofd from ClinRisk's published algorithm (LGPL-3). ClinRisk Ltd. stress that it is the \
        responsibility of the end user to check that the source produces the same results as the original code at https://qrisk.org; \
        inaccurate implementations of risk scores can lead to wrong patients being given the wrong treatment. qofd's figures are for \
        population use (planning and case finding), not for an individual's clinical care.
        """

    /// One sex's coefficients.
    struct Model: Decodable, Sendable {
        struct Transform: Decodable, Sendable {
            var power: Int
            var log: Bool?
            func apply(_ x: Double) -> Double {
                let p = power == 0 ? Foundation.log(x) : pow(x, Double(power))
                return log == true ? p * Foundation.log(x) : p
            }
        }
        var survivor10: Double
        var ethnicity: [Double]
        var smoking: [Double]
        var transforms: [String: Transform]
        var centres: [String: Double]
        var terms: [String: Double]
        var interactions: [String: [String: Double]]
    }

    struct Coefficients: Decodable, Sendable {
        var model: String
        var years: Int
        var female: Model
        var male: Model
    }

    /// One sex's model made ready: each term a variable index and a coefficient, in a fixed order (so a score
    /// is the same to the last bit on every run).
    struct Compiled: Sendable {
        var survivor10: Double
        var ethnicity: [Double]
        var smoking: [Double]
        var transforms: [Model.Transform?]   // for age_1, age_2, bmi_1, bmi_2
        var centres: [Double]                // by variable, 0 when not centred
        var terms: [(Int, Double)]
        var interactions: [(Int, Int, Double)]
    }

    /// The variables the coefficients may name, in the order values are kept.
    static let variables = ["age_1", "age_2", "bmi_1", "bmi_2", "rati", "sbp", "sbps5", "town", "b_AF", "b_atypicalantipsy", "b_corticosteroids",
                            "b_impotence2", "b_migraine", "b_ra", "b_renal", "b_semi", "b_sle", "b_treatedhyp", "b_type1", "b_type2", "fh_cvd",
                            "smoke_1", "smoke_2", "smoke_3", "smoke_4"]

    /// The model's name (QRISK3-2017), as the coefficients file gives it.
    public let name: String
    let female: Compiled
    let male: Compiled

    init(coefficients c: Coefficients) throws {
        name = c.model
        func index(_ v: String) throws -> Int {
            guard let i = Self.variables.firstIndex(of: v) else { throw QRISK3Error.unknownVariable(v) }
            return i
        }
        func compile(_ m: Model) throws -> Compiled {
            guard m.ethnicity.count == 10, m.smoking.count == 5, m.survivor10 > 0, m.survivor10 < 1 else { throw QRISK3Error.malformed }
            var centres = Array(repeating: 0.0, count: Self.variables.count)
            for (k, v) in m.centres { centres[try index(k)] = v }
            let terms = try m.terms.keys.sorted().map { (try index($0), m.terms[$0]!) }
            var interactions: [(Int, Int, Double)] = []
            for age in m.interactions.keys.sorted() {
                let terms = m.interactions[age]!
                for term in terms.keys.sorted() { interactions.append((try index(age), try index(term), terms[term]!)) }
            }
            return Compiled(survivor10: m.survivor10, ethnicity: m.ethnicity, smoking: m.smoking,
                            transforms: ["age_1", "age_2", "bmi_1", "bmi_2"].map { m.transforms[$0] }, centres: centres, terms: terms,
                            interactions: interactions)
        }
        female = try compile(c.female)
        male = try compile(c.male)
    }

    /// The coefficients shipped with qofd.
    public static func bundled() throws -> QRISK3 {
        guard let url = Bundle.module.url(forResource: "qrisk3-2017", withExtension: "json") else { throw QRISK3Error.missingCoefficients }
        return try QRISK3(coefficients: try JSONDecoder().decode(Coefficients.self, from: Data(contentsOf: url)))
    }

    /// The ten-year risk in percent; nil outside the ages the model covers (25 to 84) or with inputs it cannot
    /// take (a BMI, ratio or blood pressure that is not a positive number).
    public func score(_ x: QRISK3Input) -> Double? {
        guard (25...84).contains(x.age), x.bmi > 0, x.bmi.isFinite, x.cholesterolRatio > 0, x.cholesterolRatio.isFinite, x.systolic > 0,
            x.systolic.isFinite, x.systolicSD >= 0, x.systolicSD.isFinite, x.townsend.isFinite
        else { return nil }
        let m = x.sex == .female ? female : male
        let age = Double(x.age) / 10, bmi = x.bmi / 10
        // The values live on the stack: this runs once per adult of a practice.
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.variables.count) { v in
            v.initialize(repeating: 0)
            // Transformed (fractional polynomials, scaled by 10) and centred.
            v[0] = (m.transforms[0]?.apply(age) ?? age) - m.centres[0]
            v[1] = (m.transforms[1]?.apply(age) ?? age) - m.centres[1]
            v[2] = (m.transforms[2]?.apply(bmi) ?? bmi) - m.centres[2]
            v[3] = (m.transforms[3]?.apply(bmi) ?? bmi) - m.centres[3]
            v[4] = x.cholesterolRatio - m.centres[4]
            v[5] = x.systolic - m.centres[5]
            v[6] = x.systolicSD - m.centres[6]
            v[7] = x.townsend - m.centres[7]
            // The conditions, in the order of `variables` from b_AF to fh_cvd.
            func one(_ f: Bool) -> Double { f ? 1 : 0 }
            (v[8], v[9], v[10], v[11]) = (one(x.atrialFibrillation), one(x.atypicalAntipsychotics), one(x.corticosteroids),
                                          one(x.erectileDysfunction && x.sex == .male))
            (v[12], v[13], v[14], v[15], v[16]) = (one(x.migraine), one(x.rheumatoidArthritis), one(x.kidneyDisease), one(x.severeMentalIllness),
                                                   one(x.lupus))
            (v[17], v[18], v[19], v[20]) = (one(x.treatedHypertension), one(x.type1Diabetes), one(x.type2Diabetes), one(x.familyHistory))
            if x.smoking.rawValue >= 1 { v[20 + x.smoking.rawValue] = 1 }
            var a = m.ethnicity[(0...9).contains(x.ethnicity) ? x.ethnicity : 1] + m.smoking[x.smoking.rawValue]
            for (i, c) in m.terms { a += v[i] * c }
            for (i, j, c) in m.interactions { a += v[i] * v[j] * c }
            return 100 * (1 - pow(m.survivor10, exp(a)))
        }
    }
}

/// Coefficients that cannot be used: missing from the build, naming a variable the model does not have, or
/// of the wrong shape.
public enum QRISK3Error: Error, Sendable { case missingCoefficients, unknownVariable(String), malformed }
