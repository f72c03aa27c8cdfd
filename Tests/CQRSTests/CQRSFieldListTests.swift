import CQRS
import Clinical
import Clusters
import Foundation
import RulesEngine
import Testing
import TestSupport

/// Every QOF indicator reports the fields CQRS has for it: NHS Digital's own field lists (2023/24
/// INDICATOR_VALUES, vendored in `cqrs-metadata/` from `shared/domain/cqrs-metadata`) against what `qofd compute --format cqrs` writes, names
/// and order, for every indicator of the 2025/26 and 2024/25 rulesets that 2023/24 had. The only gaps allowed
/// are the deliberate ones below, each with its reason.
@Suite("CQRS field lists")
struct CQRSFieldListTests {
    /// Deliberate differences: indicator → (fields only qofd writes, fields only CQRS has, why).
    static let deliberate: [String: (ours: Set<String>, cqrs: Set<String>, why: String)] = [:]

    /// NHS Digital's 2023/24 field lists, vendored beside this file (see cqrs-metadata/README.md).
    static var metadata: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "cqrs-metadata/INDICATOR_VALUES.csv")
    }

    /// CQRS's rows per indicator, in file order.
    static func cqrsFields() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        let text = try String(contentsOf: metadata, encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6 else { continue }
            out[f[4], default: []].append(f[5])
        }
        return out
    }

    @Test("qofd writes CQRS's field names in CQRS's order for every indicator 2023/24 had", arguments: ["qof-2025-26", "qof-2024-25"])
    func fieldLists(ruleset id: String) throws {
        guard FileManager.default.fileExists(atPath: Self.metadata.path) else {
            Issue.record("CQRS metadata not found at \(Self.metadata.path)")
            return
        }
        let cqrs = try Self.cqrsFields()
        let library = try ClusterLibrary.bundled()
        let rs = try #require(try RulesetLoader(library: library).loadAll()[id])
        let compiled = try CompiledRuleset(rs, library: library)
        let empty = Population(practice: PracticeInfo(ods: "A81001", name: "T", pcnODS: nil), dataTo: rs.payPeriodEnd)
        let result = Engine(compiled).evaluate(empty, patientOutcomes: false)
        let file = CQRSFiles.values([result], ruleset: rs, achievementDate: rs.payPeriodEnd)
        var ours: [String: [String]] = [:]
        for line in file.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            ours[f[4], default: []].append(f[5])
        }
        var compared = 0
        // Income-protected indicators (2024/25) are paid at the practice's 2023/24 points and not computed: qofd writes
        // no values rows for them (only their points), so there is nothing to compare.
        for indicator in rs.indicators where indicator.payment == .protected { #expect(ours[indicator.id] == nil, "\(id) \(indicator.id): no values") }
        for indicator in rs.indicators where cqrs[indicator.id] != nil && indicator.payment != .protected {
            compared += 1
            let theirs = cqrs[indicator.id]!, mine = ours[indicator.id] ?? []
            let allowed = Self.deliberate[indicator.id]
            let mineKept = mine.filter { !(allowed?.ours.contains($0) ?? false) }
            let theirsKept = theirs.filter { !(allowed?.cqrs.contains($0) ?? false) }
            #expect(mineKept == theirsKept, "\(id) \(indicator.id): qofd only \(Set(mine).subtracting(theirs).sorted()), CQRS only \(Set(theirs).subtracting(mine).sorted())")
        }
        #expect(compared > 30)
        // qofd writes only CQRS field names: no field qofd invented slips into the export.
        let known = Set(cqrs.values.flatMap { $0 })
        for (indicator, fields) in ours where cqrs[indicator] == nil {
            for f in fields where !known.contains(f) && !["Denominator", "Numerator"].contains(f) {
                #expect(rs.registers.contains { $0.cqrsName == f } || Self.newFields.contains(f), "\(id) \(indicator): \(f) is not a CQRS field name")
            }
        }
    }

    /// Fields of indicators new since 2023/24 that are not in the 2023/24 lists (named as CQRS names them in
    /// the later business rules, from the facts sheet).
    /// - CHOLPCAPU, CHOLPCADEC (CHOL003/CHOL004, new in 2024/25): named in qof-facts.md §1.3 ("CHOLMAX, CHOLPCAPU/DEC ...
    ///   now apply"; PCIT, NB Medical, Suvera).
    /// - DIAG_DAT25 (AST012, new in 2025/26: diagnosed before 1 April 2025): qofd's name on CQRS's DIAG_DATyy pattern
    ///   (DIAG_DAT13, DIAG_DAT23); unverified until the v50 field list is published.
    static let newFields: Set<String> = ["CHOLPCAPU", "CHOLPCADEC", "DIAG_DAT25"]
}
