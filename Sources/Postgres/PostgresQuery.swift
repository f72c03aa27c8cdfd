/// A SQL statement with its parameters kept apart from the text.
///
/// Interpolating a value appends `$n` to the SQL and the value to `bindings`, so user code never
/// builds SQL from strings:
/// ```swift
/// try conn.query("SELECT id FROM practice WHERE ods_code = \(ods)")
/// ```
/// Identifiers can be interpolated with `\(identifier: name)` (quoted); trusted SQL fragments
/// with `\(unescaped: fragment)`.
public struct PostgresQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    public var sql: String
    public var bindings: [PostgresBinding]

    public init(_ sql: String, bindings: [PostgresBinding] = []) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringInterpolation.sql, bindings: stringInterpolation.bindings)
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var bindings: [PostgresBinding] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            bindings.append(value.postgresBinding)
            sql += "$\(bindings.count)"
        }

        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T?) {
            bindings.append(value?.postgresBinding ?? .null)
            sql += "$\(bindings.count)"
        }

        public mutating func appendInterpolation(identifier: String) {
            sql += quoteIdentifier(identifier)
        }

        public mutating func appendInterpolation(unescaped fragment: String) {
            sql += fragment
        }
    }
}

/// Quotes an SQL identifier (`"my ""table"""`).
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
