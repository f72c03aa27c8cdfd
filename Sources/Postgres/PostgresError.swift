/// An error from PostgreSQL or from talking to it.
///
/// It exists so callers can tell a constraint violation from a lost connection without parsing text:
/// `code` says what kind of failure it was, `sqlState` carries the server's SQLSTATE when there is one.
/// `description` never includes the server's DETAIL line, which can echo row values (patient data);
/// use `debugDescription` (or `String(reflecting:)`) when you need everything.
public struct PostgresError: Error, Sendable, Hashable {
    /// What kind of failure this is. A struct with static members rather than an enum, so new kinds
    /// can be added without breaking anyone's `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The connection could not be opened.
        public static let connectionFailed = Code("connection failed")
        /// The connection was lost (server gone, restarted, network). Reconnect, then retry what is safe.
        public static let connectionLost = Code("connection lost")
        /// The connection was closed by this process and cannot be used.
        public static let connectionClosed = Code("connection closed")
        /// The server reported an error for a statement (see `sqlState`).
        public static let server = Code("server error")
        /// A COPY could not be completed.
        public static let copyFailed = Code("copy failed")
        /// A parameter cannot be sent (e.g. text containing a NUL byte).
        public static let invalidParameter = Code("invalid parameter")
        /// A value in a result could not be decoded to the requested Swift type.
        public static let decoding = Code("decoding failed")
        /// The server answered in a way this client did not expect.
        public static let unexpectedResponse = Code("unexpected response")
    }

    public var code: Code
    /// Five-character SQLSTATE, e.g. `23505` for a unique violation; nil for client-side failures.
    public var sqlState: String?
    /// Severity (`ERROR`, `FATAL`, `PANIC`), not localised.
    public var severity: String?
    /// The primary message.
    public var message: String
    /// Secondary detail; may contain row values. Not part of `description`.
    public var detail: String?
    /// A suggestion from the server on what to do.
    public var hint: String?
    /// The constraint that was violated, when there is one.
    public var constraint: String?
    /// The table involved, when the server names one.
    public var table: String?

    public init(
        code: Code, message: String, sqlState: String? = nil, severity: String? = nil,
        detail: String? = nil, hint: String? = nil, constraint: String? = nil, table: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
    }

    /// True when the connection can no longer be used: reconnect before trying again.
    public var isConnectionLoss: Bool {
        if code == .connectionLost || code == .connectionFailed { return true }
        guard let state = sqlState else { return false }
        // Class 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    /// True when retrying the same transaction may succeed (serialization failure, deadlock).
    public var isTransient: Bool {
        sqlState == "40001" || sqlState == "40P01" || isConnectionLoss
    }
}

extension PostgresError: CustomStringConvertible, CustomDebugStringConvertible {
    /// One line (libpq's messages span several: a log line is one event). For a data exception (SQLSTATE class
    /// 22: `invalid input syntax for type integer: "…"`, `value "…" is out of range`) the server quotes the
    /// offending value in the primary message: the quoted parts are withheld, as the DETAIL line always is.
    public var description: String {
        var text = message
        if sqlState?.hasPrefix("22") == true { text = Self.withholdingQuoted(text) }
        let oneLine = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " / ")
        if let sqlState { return "PostgreSQL \(sqlState): \(oneLine)" }
        return "PostgreSQL \(code): \(oneLine)"
    }

    /// `"value"` → `"(value withheld)"`, every quoted part of `text`.
    static func withholdingQuoted(_ text: String) -> String {
        var out = "", inside = false
        for ch in text {
            if ch == "\"" {
                out += inside ? "(value withheld)\"" : "\""
                inside.toggle()
            } else if !inside {
                out.append(ch)
            }
        }
        if inside { out += "(value withheld)" }
        return out
    }

    public var debugDescription: String {
        var parts = [description]
        if description.contains("(value withheld)") { parts.append("MESSAGE: \(message)") }
        if let detail { parts.append("DETAIL: \(detail)") }
        if let hint { parts.append("HINT: \(hint)") }
        if let constraint { parts.append("constraint: \(constraint)") }
        return parts.joined(separator: "\n")
    }
}
