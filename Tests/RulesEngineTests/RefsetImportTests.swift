import Clusters
import Foundation
import RulesEngine
import Testing
import TestSupport

@Suite("Importing the PCD reference set release")
struct RefsetImportTests {
    @Test("an RF2 simple refset snapshot becomes cluster CSVs that replace the shipped lists")
    func importSnapshot() throws {
        let base = TestFolders.make("rf2")
        let release = base.appending(path: "Snapshot/Refset/Content")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        let rows = [
            "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId",
            "a1\t20250912\t1\t999000011000230102\t999006611000230105\t38341003",   // HYP_COD
            "a2\t20250912\t1\t999000011000230102\t999006611000230105\t59621000",
            "a3\t20250912\t0\t999000011000230102\t999006611000230105\t1201005",    // inactive: left out
            "a4\t20260101\t1\t999000011000230102\t999016411000230109\t164783007",  // ABPM_COD (declared in the ruleset)
            "a5\t20250912\t1\t999000011000230102\t999999999999999999\t12345678",   // not a refset qofd uses
        ]
        try Data((rows.joined(separator: "\n") + "\n").utf8)
            .write(to: release.appending(path: "der2_Refset_SimpleSnapshot_GB1000230_20260101.txt"))
        let out = base.appending(path: "clusters")
        let summary = try RefsetImport.run(release: base, output: out, names: try RefsetImport.clusterNames(extra: ["999016411000230109": "ABPM_COD"]))
        #expect(summary.clusters == ["HYP_COD": 2, "ABPM_COD": 1])
        #expect(summary.unknownRefsets == 1)
        #expect(summary.latestEffectiveTime == "20260101")
        var library = try ClusterLibrary.bundled()
        for list in try ClusterLibrary.load(directory: out).lists.values { library.add(list) }
        #expect(library["HYP_COD"]?.concepts == [38_341_003, 59_621_000])
        let compiled = try CompiledRuleset(Fixtures.rulesets["qof-2025-26"]!, library: library)
        #expect(!compiled.missingClusters.contains("ABPM_COD"))
        #expect(compiled.clusterVersions["HYP_COD"]?.hasPrefix("HYP_COD.csv#") == true)
    }
}
