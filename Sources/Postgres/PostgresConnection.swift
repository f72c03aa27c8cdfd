import CLibPQ
import Logging

/// One connection to PostgreSQL through libpq.
///
/// An actor on its own serial dispatch queue: libpq's blocking calls run there, never on Swift's
/// cooperative pool, and no two tasks ever touch the same `PGconn` at once. Statements are
/// parameterised (`PostgresQuery`); multi-statement scripts go through `executeScript`.
///
/// When the connection is lost, calls throw a `PostgresError` whose `isConnectionLoss` is true;
/// call `reset()` (or open a new connection, e.g. with `connect(_:logger:retry:)`) and retry what is
/// safe to retry. A statement in flight when the connection dropped is never replayed.
public actor PostgresConnection {
    private let executor: SerialQueueExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The libpq connection; nil once closed.
    var handle: OpaquePointer?
    private let conninfo: String
    private let noticeSink: NoticeSink
    /// Statements prepared in this session (emptied whenever a session starts).
    var prepared = PreparedStatements()
    public nonisolated let logger: Logger

    private init(conninfo: String, logger: Logger) {
        self.conninfo = conninfo
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        self.executor = SerialQueueExecutor(label: "qofd.postgres.connection")
    }

    isolated deinit {
        if let handle { PQfinish(handle) }
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - conninfo: a libpq connection string (`host=/run/qofd dbname=qofd`) or URL
    ///     (`postgresql://user@host/db`).
    ///   - logger: receives server notices and connection events; never statement parameters.
    /// - Throws: `PostgresError` with code `.connectionFailed`.
    public static func connect(_ conninfo: String, logger: Logger = Logger(label: "qofd.postgres")) async throws
        -> PostgresConnection
    {
        let connection = PostgresConnection(conninfo: conninfo, logger: logger)
        try await connection.open()
        return connection
    }

    /// Opens a connection, retrying with exponential backoff while the server is unreachable.
    public static func connect(
        _ conninfo: String, logger: Logger = Logger(label: "qofd.postgres"), retry: Backoff
    ) async throws -> PostgresConnection {
        var attempt = 0
        while true {
            do {
                return try await connect(conninfo, logger: logger)
            } catch let error as PostgresError where error.isConnectionLoss && attempt + 1 < retry.maxAttempts {
                let delay = retry.delay(afterAttempt: attempt)
                logger.warning(
                    "database unreachable, retrying",
                    metadata: ["attempt": "\(attempt + 1)", "delay_ms": "\(Int(delay * 1000))", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                attempt += 1
            }
        }
    }

    private func open() throws {
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        handle = conn
        prepared.removeAll()
        try configureSession()
    }

    /// Settings every session needs so that text results decode the same way everywhere.
    private func configureSession() throws {
        guard let handle else { return }
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(noticeSink).toOpaque())
        if PQsetClientEncoding(handle, "UTF8") != 0 {
            throw PostgresError(code: .connectionFailed, message: "server refused UTF8 client encoding")
        }
        try executeScript("SET DateStyle TO ISO; SET TimeZone TO 'UTC'; SET IntervalStyle TO iso_8601")
    }

    /// True while the connection is open and libpq believes it is healthy.
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's version as an integer (e.g. 150018 for 15.18).
    public var serverVersion: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// Re-establishes a lost connection with the same parameters.
    public func reset() throws {
        guard let handle else { throw PostgresError(code: .connectionClosed, message: "connection is closed") }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(code: .connectionLost, message: Self.trimmed(PQerrorMessage(handle)))
        }
        logger.info("database connection re-established")
        prepared.removeAll()
        try configureSession()
    }

    /// Closes the connection. Further calls throw `.connectionClosed`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    func liveHandle() throws -> OpaquePointer {
        guard let handle else { throw PostgresError(code: .connectionClosed, message: "connection is closed") }
        return handle
    }

    // MARK: Statements

    /// Runs one parameterised statement and returns its rows. The statement is prepared on its first run
    /// on this connection and reused after (see `PreparedStatements`).
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresRows {
        let conn = try liveHandle()
        for case .text(let text) in query.bindings where text.utf8.contains(0) {
            throw PostgresError(
                code: .invalidParameter, message: "a text parameter contains a NUL byte, which PostgreSQL text cannot hold")
        }
        return PostgresRows(result: try runPrepared(query, on: conn))
    }

    /// Runs one parameterised statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).affectedRows
    }

    /// Runs a script of one or more statements without parameters (e.g. a migration file).
    /// libpq runs a multi-statement script in one implicit transaction unless it has its own BEGIN/COMMIT.
    public func executeScript(_ sql: String) throws {
        let conn = try liveHandle()
        _ = try check(PQexec(conn, sql), connection: conn)
    }

    /// Runs `body` inside BEGIN/COMMIT; rolls back and rethrows if it throws.
    ///
    /// The body is synchronous and runs on this connection's queue, so nothing else can interleave
    /// a statement on this connection in the middle of the transaction.
    @discardableResult
    public func withTransaction<T: Sendable>(
        _ body: @Sendable (isolated PostgresConnection) throws -> T
    ) throws -> T {
        try executeScript("BEGIN")
        do {
            let value = try body(self)
            try executeScript("COMMIT")
            return value
        } catch {
            if isConnected {
                do { try executeScript("ROLLBACK") } catch {
                    logger.error("rollback failed", metadata: ["error": "\(error)"])
                }
            }
            throw error
        }
    }

    // MARK: Results and errors

    /// Turns a libpq result into a `PostgresResult` or throws the error it carries.
    func check(_ result: OpaquePointer?, connection conn: OpaquePointer) throws -> PostgresResult {
        guard let result else {
            throw connectionError(conn, fallback: "no result from server")
        }
        let owned = PostgresResult(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return owned
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            var error = Self.serverError(result)
            if PQstatus(conn) == CONNECTION_BAD {
                error.code = .connectionLost
            }
            throw error
        default:
            throw PostgresError(
                code: .unexpectedResponse, message: String(cString: PQresStatus(PQresultStatus(result))))
        }
    }

    func connectionError(_ conn: OpaquePointer, fallback: String) -> PostgresError {
        let message = Self.trimmed(PQerrorMessage(conn))
        let lost = PQstatus(conn) == CONNECTION_BAD
        return PostgresError(code: lost ? .connectionLost : .unexpectedResponse, message: message.isEmpty ? fallback : message)
    }

    static func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let p = PQresultErrorField(result, code) else { return nil }
            return String(cString: p)
        }
        let primary = field(CLibPQ_DIAG_MESSAGE_PRIMARY) ?? trimmed(PQresultErrorMessage(result))
        return PostgresError(
            code: .server, message: primary, sqlState: field(CLibPQ_DIAG_SQLSTATE),
            severity: field(CLibPQ_DIAG_SEVERITY), detail: field(CLibPQ_DIAG_MESSAGE_DETAIL),
            hint: field(CLibPQ_DIAG_MESSAGE_HINT), constraint: field(CLibPQ_DIAG_CONSTRAINT_NAME),
            table: field(CLibPQ_DIAG_TABLE_NAME))
    }

    static func trimmed(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    fileprivate static let whitespacesAndNewlines: Set<Character> = [" ", "\n", "\t", "\r"]
}
