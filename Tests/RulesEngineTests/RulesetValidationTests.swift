import Clinical
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

    @Test("a key date named under dates: is usable in rules; one that clashes with a field or a built-in is an error")
    func keyDates() throws {
        let body = """
            fields:
              HYPLAT_DAT: {latest: HYP_COD, on_or_after: START}
            registers:
              HYP_REG:
                rules:
                  - {if: HYPLAT_DAT is not null and ACHV_DAT > START, then: select, else: reject}
            """
        let rs = try loader.parse("ruleset: t\nkind: qof\nfamily: t\ndates: {PPSD: 2025-04-01, PPED: 2026-03-31, START: 2025-10-01}\n" + body, file: "local.yaml")
        #expect(rs.keyDates == ["START": Day(year: 2025, month: 10, day: 1)!])
        #expect(error("ruleset: t\nkind: qof\nfamily: t\ndates: {PPSD: 2025-04-01, PPED: 2026-03-31, HYPLAT_DAT: 2025-10-01}\n" + body)?
            .message.contains("also a key date") == true)
        #expect(error("ruleset: t\nkind: qof\nfamily: t\ndates: {PPSD: 2025-04-01, PPED: 2026-03-31, ACHV_DAT: 2025-10-01, START: 2025-10-01}\n" + body)?
            .message.contains("built-in") == true)
        #expect(error("ruleset: t\nkind: qof\nfamily: t\ndates: {PPSD: 2025-04-01, PPED: 2026-03-31, START: soon}\n" + body) != nil)
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

/// Rulesets inherit: a year is its predecessor's (or successor's) rules plus explicit changes.
@Suite("Ruleset inheritance")
struct RulesetInheritanceTests {
    let loader = RulesetLoader(library: Fixtures.shipped)

    @Test("qof-2024-25 extends qof-2025-26: its changes are listed, and its merged text stands alone with the same hash")
    func shippedInheritance() throws {
        let all = try loader.loadAll()
        let y2425 = try #require(all["qof-2024-25"])
        #expect(y2425.changes.first == "extends qof-2025-26")
        #expect(y2425.changes.contains { $0.hasPrefix("overrides 9 indicators: HYP008 (points, thresholds)") })
        #expect(y2425.changes.contains("removes 3 indicators: DM034, DM035, AST012"))
        #expect(y2425.indicators.count == 76 && y2425.indicators.reduce(0) { $0 + $1.points } == 635)
        #expect(y2425.indicators.first { $0.id == "HYP008" }?.points == 14)
        #expect(all["qof-2025-26"]!.indicators.first { $0.id == "HYP008" }?.points == 38, "the parent is unchanged")
        // The stored text (what runs keep) parses on its own to the same ruleset hash.
        let again = try loader.parse(y2425.text, file: "stored.yaml")
        #expect(again.sha256 == y2425.sha256 && again.indicators.count == 76)
    }

    @Test("a removal of something the parent lacks, and a cycle, are errors naming the file")
    func badInheritance() {
        let parent = (text: "ruleset: p\nkind: qof\nfamily: t\ndates: {PPSD: 2025-04-01, PPED: 2026-03-31}\nindicators: {}\n", file: "p.yaml")
        func error(_ text: String, parents: [String: (text: String, file: String)]) -> String? {
            do { _ = try loader.parse(text, file: "c.yaml", parents: parents); return nil } catch { return "\(error)" }
        }
        #expect(error("ruleset: c\nextends: p\nremove: {indicators: [NOPE]}\n", parents: ["p": parent])?.contains("no indicators entry NOPE") == true)
        #expect(error("ruleset: c\nextends: missing\n", parents: ["p": parent])?.contains("no ruleset missing") == true)
        let a = (text: "ruleset: a\nextends: b\n", file: "a.yaml"), b = (text: "ruleset: b\nextends: a\n", file: "b.yaml")
        #expect(error("ruleset: c\nextends: a\n", parents: ["a": a, "b": b])?.contains("cycle") == true)
    }
}

extension RulesetValidationTests {
    static let programme = """
        ruleset: local-flu
        kind: programme
        family: localflu
        dates: {PPSD: 2025-09-01, PPED: 2026-03-31}
        registers:
          LIST:
            rules:
              - {if: true, then: select, else: select}
        indicators:
          COHORT_A:
            register: LIST
            denominator:
              - {if: PAT_AGE >= 65, then: select, else: reject}
            numerator:
              - {if: false, then: select, else: next}
              - {if: true, then: reject, else: reject, field: TO_VACCINATE}
          COHORT_B:
            register: LIST
            denominator:
              - {if: PAT_AGE < 65, then: select, else: reject}
            numerator:
              - {if: false, then: select, else: reject}

        """

    @Test("a programme's call list is data: its cohorts in order and the field naming those to call; the shipped flu years share one")
    func callList() throws {
        let rs = try loader.parse(Self.programme + "call_list: {order: [COHORT_A], field: TO_VACCINATE}\n", file: "local.yaml")
        #expect(rs.callList == Ruleset.CallList(order: ["COHORT_A"], field: "TO_VACCINATE"))
        #expect(error(Self.programme + "call_list: {order: [COHORT_C], field: TO_VACCINATE}\n")?.description.contains("COHORT_C, which is not an indicator") == true)
        #expect(error(Self.programme + "call_list: {order: [COHORT_B], field: TO_VACCINATE}\n")?.description.contains("nobody would be called") == true)
        #expect(error(Self.programme + "call_list: {order: [], field: TO_VACCINATE}\n") != nil)
        let y2526 = try #require(Fixtures.rulesets["flu-2025-26"]?.callList)
        #expect(y2526.order.first == "FLU_CAREHOME" && !y2526.order.contains("FLU_SCHOOL"))
        #expect(Fixtures.rulesets["flu-2024-25"]?.callList == y2526, "inherited by the year it extends")
        #expect(Fixtures.rulesets["qof-2025-26"]?.callList == nil)
    }
}
