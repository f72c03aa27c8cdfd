import Postgres
import Testing
import TestSupport

@Suite("Core schema")
struct CoreSchemaTests {
    @Test("the audit log refuses UPDATE, DELETE and TRUNCATE")
    func auditLogAppendOnly() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        try await conn.execute("INSERT INTO audit_log (actor, action) VALUES (\("alice"), \("declare"))")
        for statement in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log"] {
            do {
                try await conn.executeScript(statement)
                Issue.record("\(statement) should have been refused")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42501")
            }
        }
        #expect(try await conn.query("SELECT actor FROM audit_log")[0].decode(0, as: String.self) == "alice")
    }

    @Test("a practice cannot belong to two PCNs on the same day")
    func overlappingMembershipRefused() async throws {
        let conn = try await TestDatabase.connect(migrated: true)
        try await conn.executeScript(
            """
            INSERT INTO organisation (ods_code, kind, name) VALUES
              ('A81001', 'practice', 'The Surgery'), ('U12345', 'pcn', 'North PCN'), ('U54321', 'pcn', 'South PCN');
            INSERT INTO pcn_membership (practice_ods, pcn_ods, valid_from, valid_to)
              VALUES ('A81001', 'U12345', '2024-04-01', '2025-03-31');
            INSERT INTO pcn_membership (practice_ods, pcn_ods, valid_from) VALUES ('A81001', 'U54321', '2025-04-01');
            """)
        do {
            try await conn.executeScript(
                "INSERT INTO pcn_membership (practice_ods, pcn_ods, valid_from) VALUES ('A81001', 'U54321', '2025-03-31')")
            Issue.record("overlapping membership should be refused")
        } catch let error as PostgresError {
            #expect(error.sqlState == "23P01")
        }
    }
}
