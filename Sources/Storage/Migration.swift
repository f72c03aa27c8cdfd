import Crypto

/// One numbered schema change from `sql/NNNN_name.sql`, with the SHA-256 of its text.
///
/// Migrations are append-only: once applied, a file's checksum is recorded and a changed file
/// stops qofd from migrating (and so from starting) until someone looks.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = sha256Hex(Array(sql.utf8))
    }

    /// Parses a file name like `0003_flu_snapshots.sql` into version 3, name `flu_snapshots`.
    public init?(fileName: String, sql: String) {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
            return nil
        }
        self.init(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql)
    }

    /// The migrations built into this binary, from the repository's `sql/` directory, in order.
    public static let embedded: [Migration] = embeddedMigrationFiles
        .compactMap { Migration(fileName: $0.name, sql: $0.sql) }
        .sorted { $0.version < $1.version }
}

/// Lower-case hex SHA-256 of some bytes.
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    let digest = SHA256.hash(data: Array(bytes))
    let hex = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in digest {
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}
