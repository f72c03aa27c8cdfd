import Clinical
import Clusters
import QRISK3
import Stratification
import Testing

/// QRISK3 read from the record: ClinRisk's first published test row (a woman of 64, Indian, non-smoker, BMI
/// from 80 kg and 178 cm, cholesterol ratio 4, systolic 180 with SD 20, Townsend 0: 17.2 %; with AF 36.0 %;
/// the same man 27.1 %) rebuilt as coded records; CVD and age keep QRISK3 out; every missing input is said.
@Suite("QRISK3 inputs from the record")
struct QRISK3ReaderTests {
    static let library = try! ClusterLibrary.bundled()
    static let ethnic = try! EthnicGroups.bundled()
    static let reader = (try! QRISK3InputModel.bundled(library: library), try! QRISK3.bundled())
    static let day = Day(iso: "2026-03-31")!
    static func code(_ list: String) -> UInt64 { library[list]!.concepts.min()! }
    static let indian = ethnic.groups16.filter { $0.value == 8 }.keys.min()!

    struct Person {
        var born = "1961-06-01"  // 64 on 31 March 2026
        var sex = Sex.female
        var ethnicity: UInt64? = indian
        var events: [(UInt64, String, Float)] = []
    }

    /// Ratio 4 (total 4.0, HDL 1.0), systolic 200, 160, 180 (latest 180, SD 20), BMI 25.2493, never smoked.
    static func row1() -> Person {
        Person(events: [
            (code("BMIVAL_COD"), "2025-01-10", Float(80 / (1.78 * 1.78))), (code("CHOL2_COD"), "2025-02-01", 4.0), (code("HDLCCHOL_COD"), "2025-02-01", 1.0),
            (code("BP_COD"), "2024-05-01", 200), (code("BP_COD"), "2025-05-01", 160), (code("BP_COD"), "2026-01-05", 180),
            (code("gmsde-smoking-status-never"), "2020-01-01", .nan),
        ])
    }

    static func population(_ people: [Person]) -> Population {
        TestPopulation.build(people.map { TestPerson(born: $0.born, sex: $0.sex, ethnicity: $0.ethnicity, events: $0.events) })
    }

    static func read(_ people: [Person]) -> QRISK3Reader {
        QRISK3Reader(inputs: reader.0, model: reader.1, population: population(people), ethnicGroups: ethnic)
    }

    @Test("ClinRisk's first test row, as records: 17.2 %; with AF 36.0 %; the same man 27.1 %")
    func publishedRowFromRecords() throws {
        var af = Self.row1()
        af.events.append((Self.code("AFIB_COD"), "2019-01-01", .nan))
        var man = Self.row1()
        man.sex = .male
        let r = Self.read([Self.row1(), af, man])
        let woman = try #require(r.assess(0, on: Self.day))
        #expect(woman.input.ethnicity == 2 && woman.input.smoking == .non && woman.input.cholesterolRatio == 4 && woman.input.systolic == 180)
        #expect(abs(woman.input.systolicSD - 20) < 1e-9)
        #expect(String(format: "%.1f", try #require(woman.score)) == "17.2")
        #expect(String(format: "%.1f", try #require(r.assess(1, on: Self.day)?.score)) == "36.0")
        #expect(String(format: "%.1f", try #require(r.assess(2, on: Self.day)?.score)) == "27.1")
        // Townsend and the inputs qofd has no code list for are always said.
        #expect(woman.defaulted.contains { $0.hasPrefix("Townsend") } && woman.defaulted.contains { $0.hasPrefix("lupus: not looked for") })
        #expect(!woman.defaulted.contains { $0.hasPrefix("BMI") || $0.hasPrefix("cholesterol") || $0.hasPrefix("smoking") || $0.hasPrefix("ethnicity") })
    }

    @Test("CVD ever recorded, under 25, 85 or over, or a sex without a model: no QRISK3")
    func notApplicable() {
        var cvd = Self.row1()
        cvd.events.append((Self.code("CHD_COD"), "2015-01-01", .nan))
        var young = Self.row1()
        young.born = "2001-04-01"  // 24
        var old = Self.row1()
        old.born = "1941-03-31"  // 85
        var unknown = Self.row1()
        unknown.sex = .unknown
        let r = Self.read([cvd, young, old, unknown])
        for i in 0..<4 { #expect(r.assess(i, on: Self.day) == nil, "patient \(i)") }
    }

    @Test("an empty record still scores, with every defaulted input named; a current smoker without an amount is moderate; a recorded score is read")
    func defaults() throws {
        var smoker = Person(ethnicity: nil, events: [(Self.code("LSMOK_COD"), "2025-06-01", .nan)])
        smoker.events.append((Self.code("QRISKSCORE_COD"), "2025-07-01", 12.5))
        let r = Self.read([Person(ethnicity: nil), smoker])
        let empty = try #require(r.assess(0, on: Self.day))
        #expect(empty.score != nil)
        for prefix in ["BMI", "cholesterol/HDL ratio", "systolic blood pressure", "systolic variability", "smoking: no status", "ethnicity"] {
            #expect(empty.defaulted.contains { $0.hasPrefix(prefix) }, "\(prefix)")
        }
        let s = try #require(r.assess(1, on: Self.day))
        #expect(s.input.smoking == .moderate && s.defaulted.contains { $0.contains("counted as moderate") })
        #expect(s.recorded?.score == 12.5 && s.recorded?.on == Day(iso: "2025-07-01"))
    }
}
