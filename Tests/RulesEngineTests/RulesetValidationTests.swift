import Clusters
import RulesEngine
import Testing

@Suite("Rule files: errors name the file, the line and the rule")
struct RulesetValidationTests {
    let loader = RulesetLoader(library: Fixtures.library)

    func error(_ yaml: String) -> RulesetError? {
        do {
            _ = try loader.parse(yaml, file: "local.yaml")
            return nil
        } catch let e as RulesetError {
            return e
        } catch {
            return nil
        }
    }

    static let header = """
        ruleset: local-test
        kind: qof
        family: local
        dates: {PPSD: 2025-04-01, PPED: 2026-03-31}

        """

    @Test("a valid local indicator loads without a build")
    func validLocalIndicator() throws {
        let rs = try loader.parse(Self.header + """
            fields:
              HYPLAT_DAT: {latest: HYP_COD}
            registers:
              HYP_REG:
                rules:
                  - {if: HYPLAT_DAT is not null, then: select, else: reject}
            indicators:
              LOCAL01:
                register: HYP_REG
                denominator:
                  - {if: PAT_AGE < 18, then: reject, field: PAT_AGEU18, kind: exclusion}
                  - {if: true, then: select, else: select}
                numerator:
                  - {if: PAT_AGE >= 65, then: select, else: reject}
            """, file: "local.yaml")
        #expect(rs.indicators.map(\.id) == ["LOCAL01"])
    }

    @Test("an unknown cluster is named with its line")
    func unknownCluster() {
        let e = error(Self.header + """
            fields:
              X_DAT: {latest: NOSUCH_COD}
            """)
        #expect(e?.line == 6)
        #expect(e?.rule == "X_DAT")
        #expect(e?.message.contains("unknown cluster NOSUCH_COD") == true)
        #expect(e?.description.hasPrefix("local.yaml:6 (X_DAT)") == true)
    }

    @Test("an unknown field in a condition is named with the rule")
    func unknownField() {
        let e = error(Self.header + """
            registers:
              R:
                rules:
                  - {if: MISSING_DAT is not null, then: select, else: reject}
            """)
        #expect(e?.rule == "R rule 1")
        #expect(e?.line == 8)
        #expect(e?.message == "unknown field MISSING_DAT")
    }

    @Test("a chain that never ends in Select or Reject is refused")
    func chainNeverEnds() {
        let e = error(Self.header + """
            registers:
              R:
                rules:
                  - {if: PAT_AGE > 5, then: select}
            """)
        #expect(e?.rule == "R")
        #expect(e?.message.contains("never ends") == true)
    }

    @Test("a cycle between fields is refused and spelled out")
    func cycle() {
        let e = error(Self.header + """
            fields:
              A_DAT: {latest: HYP_COD, after: B_DAT}
              B_DAT: {latest: HYP_COD, after: A_DAT}
            """)
        #expect(e?.message.contains("cycle between fields: A_DAT -> B_DAT -> A_DAT") == true)
    }

    @Test("a malformed expression points at the character")
    func badExpression() {
        let e = error(Self.header + """
            registers:
              R:
                rules:
                  - {if: "PAT_AGE >", then: select, else: reject}
            """)
        #expect(e?.line == 8)
        #expect(e?.message.contains("at character") == true)
    }

    @Test("an unknown key is refused, not ignored")
    func unknownKey() {
        let e = error(Self.header + """
            registers:
              R:
                rules:
                  - {if: PAT_AGE > 5, then: select, else: reject, feild: X}
            """)
        #expect(e?.message.contains("unknown key 'feild'") == true)
    }

    @Test("the shipped rulesets load and every cluster they use is defined or declared")
    func shippedRulesets() throws {
        #expect(Fixtures.rulesets["qof-2025-26"] != nil)
        for rs in Fixtures.rulesets.values {
            let compiled = try CompiledRuleset(rs, library: Fixtures.shipped)
            for name in compiled.missingClusters { #expect(rs.clusters[name]?.optional == true, "\(rs.id): \(name)") }
        }
    }
}
