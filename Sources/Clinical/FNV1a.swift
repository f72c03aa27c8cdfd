/// FNV-1a, 64-bit: a small hash that is the same on every run and every machine (Swift's `Hasher` is
/// seeded per process), for symbols, fingerprints and seeds.
public struct FNV1a: Sendable {
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inlinable public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for b in bytes {
            value ^= UInt64(b)
            value &*= 0x100_0000_01b3
        }
    }

    /// The hash of a text's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var h = FNV1a()
        h.combine(text.utf8)
        return h.value
    }
}
