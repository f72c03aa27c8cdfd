import Postgres

extension PostgresConnection {
    /// Creates a database unless it exists; safe when two processes race to create it.
    public func createDatabaseIfMissing(_ name: String, template: String? = nil) throws {
        let exists = try query("SELECT 1 FROM pg_database WHERE datname = \(name)")
        guard exists.isEmpty else { return }
        var sql = "CREATE DATABASE \(quoteIdentifier(name))"
        if let template { sql += " TEMPLATE \(quoteIdentifier(template))" }
        do {
            try executeScript(sql)
        } catch let error as PostgresError where error.sqlState == "42P04" {
            // Another process created it first.
        }
    }
}
