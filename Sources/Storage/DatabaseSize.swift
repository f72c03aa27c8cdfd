import Postgres

/// How much room the stored history takes: the database as a whole and its largest tables (with their
/// indexes and TOAST), for capacity planning (the ops guide's England estimate, the web benchmark).
public enum DatabaseSize {
    public struct Table: Sendable, Hashable {
        public var name: String
        public var bytes: Int64
        public var rows: Int64
    }

    /// The current database's size in bytes.
    public static func total(in conn: isolated PostgresConnection) throws -> Int64 {
        try conn.query("SELECT pg_database_size(current_database())::int8")[0].decode(0)
    }

    /// qofd's tables, largest first, with their estimated row counts (as of the last ANALYZE).
    public static func tables(in conn: isolated PostgresConnection) throws -> [Table] {
        try conn.query(
            """
            SELECT c.relname::text, pg_total_relation_size(c.oid)::int8, greatest(c.reltuples, 0)::int8
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND n.nspname = current_schema()
            ORDER BY 2 DESC
            """
        ).map { Table(name: try $0.decode(0), bytes: try $0.decode(1), rows: try $0.decode(2)) }
    }

    /// Updates the planner's statistics (and the row estimates `tables` reports) after a bulk load.
    public static func analyse(in conn: isolated PostgresConnection) throws {
        try conn.executeScript("VACUUM ANALYZE")
    }
}
