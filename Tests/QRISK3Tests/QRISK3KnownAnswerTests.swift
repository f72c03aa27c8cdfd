import Foundation
import QRISK3
import Testing

/// ClinRisk's published test rows (the CRAN QRISK3 package's `QRISK3_2017_test` and `QRISK3_2019_test`, with
/// the score ClinRisk's C code gave; copied from shared/reference/qrisk3): qofd's QRISK3 gives every one to
/// one decimal. The rows' own traps: gender 1 is female; smoke_cat is 1–5 (the algorithm's 0–4); the bmi
/// column is stale (recomputed from weight and height).
@Suite("QRISK3-2017 against ClinRisk's 97 published test rows")
struct QRISK3KnownAnswerTests {
    struct Row: Sendable, CustomStringConvertible {
        var file: String
        var id: String
        var expected: Double
        var input: QRISK3Input
        var description: String { "\(file) row \(id)" }
    }

    static func rows(_ file: String) -> [Row] {
        let url = Bundle.module.url(forResource: file, withExtension: "csv")!
        let lines = try! String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let v = Dictionary(uniqueKeysWithValues: zip(header, cells))
            func d(_ k: String) -> Double { Double(v[k]!)! }
            func b(_ k: String) -> Bool { d(k) != 0 }
            let weight = d("weight"), height = d("height")
            var x = QRISK3Input(age: Int(d("age")), sex: d("gender") == 1 ? .female : .male, ethnicity: Int(d("ethrisk")),
                                smoking: QRISK3Input.Smoking(rawValue: Int(d("smoke_cat")) - 1)!, bmi: weight / pow(height / 100, 2),
                                cholesterolRatio: d("rati"), systolic: d("sbp"), systolicSD: d("sbps5"), townsend: d("town"))
            x.atrialFibrillation = b("b_AF")
            x.atypicalAntipsychotics = b("b_atypicalantipsy")
            x.corticosteroids = b("b_corticosteroids")
            x.erectileDysfunction = b("b_impotence2")
            x.migraine = b("b_migraine")
            x.rheumatoidArthritis = b("b_ra")
            x.kidneyDisease = b("b_renal")
            x.severeMentalIllness = b("b_semi")
            x.lupus = b("b_sle")
            x.treatedHypertension = b("b_treatedhyp")
            x.type1Diabetes = b("b_type1")
            x.type2Diabetes = b("b_type2")
            x.familyHistory = b("fh_cvd")
            return Row(file: file, id: v["ID"] ?? "?", expected: d("QRISK_C_algorithm_score"), input: x)
        }
    }

    static let all = rows("qrisk3-2017-test-rows") + rows("qrisk3-2019-test-rows")
    static let model = try! QRISK3.bundled()

    @Test("all 97 rows are there")
    func count() { #expect(Self.all.count == 97) }

    @Test("each row's score to one decimal", arguments: all)
    func knownAnswer(_ row: Row) throws {
        let score = try #require(Self.model.score(row.input))
        #expect(String(format: "%.1f", score) == String(format: "%.1f", row.expected), "\(row): \(score)")
    }

    @Test("outside 25 to 84, or with an impossible input, there is no score")
    func outOfRange() throws {
        var x = try #require(Self.all.first).input
        #expect(Self.model.score(x) != nil)
        x.age = 24
        #expect(Self.model.score(x) == nil)
        x.age = 85
        #expect(Self.model.score(x) == nil)
        x.age = 60
        x.bmi = .nan
        #expect(Self.model.score(x) == nil)
        #expect(Self.model.name == "QRISK3-2017")
        #expect(QRISK3.disclaimer.contains("https://qrisk.org"))
    }
}
