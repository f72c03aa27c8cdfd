/// Interns SNOMED CT and dm+d concept ids (up to 18 digits) to small dense integers.
///
/// Events store the small integer; a code cluster becomes a bit set over them, so "is this event in
/// HYP_COD" is one array load however long the cluster is.
public struct CodeTable: Sendable {
    public private(set) var concepts: [UInt64] = []
    /// Open addressing over `concepts` (dense id per slot, -1 empty; a power of two long, at most half full):
    /// every event row interns its code, so this is one multiply and usually one probe, not a SipHash.
    private var slots: [Int32] = []

    public init() {}

    public var count: Int { concepts.count }

    @inline(__always) private func home(_ concept: UInt64) -> Int {
        Int(truncatingIfNeeded: (concept &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots.count - 1)
    }

    /// The dense id of `concept`, adding it if new.
    public mutating func intern(_ concept: UInt64) -> Int32 {
        if slots.isEmpty { slots = [Int32](repeating: -1, count: 1024) }
        var i = home(concept)
        while true {
            let s = slots[i]
            if s < 0 { break }
            if concepts[Int(s)] == concept { return s }
            i = (i + 1) & (slots.count - 1)
        }
        let id = Int32(concepts.count)
        concepts.append(concept)
        slots[i] = id
        if concepts.count * 2 > slots.count { rehash(capacity: slots.count * 2) }
        return id
    }

    private mutating func rehash(capacity: Int) {
        slots = [Int32](repeating: -1, count: capacity)
        for (id, concept) in concepts.enumerated() {
            var i = home(concept)
            while slots[i] >= 0 { i = (i + 1) & (capacity - 1) }
            slots[i] = Int32(id)
        }
    }

    /// The dense id of `concept`, or nil if no record uses it.
    public func lookup(_ concept: UInt64) -> Int32? {
        guard !slots.isEmpty else { return nil }
        var i = home(concept)
        while true {
            let s = slots[i]
            if s < 0 { return nil }
            if concepts[Int(s)] == concept { return s }
            i = (i + 1) & (slots.count - 1)
        }
    }

    public subscript(id: Int32) -> UInt64 { concepts[Int(id)] }

    /// Parses a concept id (6 to 18 decimal digits) from bytes: the leading digits one by one, then eight
    /// at a time (one load, a check that all eight are digits, three multiplies), as millions of codes
    /// are read per extract.
    public static func parseConcept(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let n = bytes.count
        guard n >= 6, n <= 18 else { return nil }
        var v: UInt64 = 0
        var i = 0
        while (n - i) % 8 != 0 {
            let d = bytes[i] &- 48
            guard d <= 9 else { return nil }
            v = v * 10 + UInt64(d)
            i += 1
        }
        while i < n {
            guard let eight = eightDigits(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))) else { return nil }
            v = v &* 100_000_000 &+ eight
            i += 8
        }
        return v
    }

    /// The value of eight ASCII digits loaded little-endian (the first digit in the lowest byte), or nil
    /// when any byte is not a digit.
    @inline(__always)
    static func eightDigits(_ chunk: UInt64) -> UInt64? {
        // Every byte 0x30...0x39: high nibble 3, and adding 6 to the low nibble does not carry into it.
        guard chunk & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030,
            (chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 == 0x3030_3030_3030_3030
        else { return nil }
        var x = chunk &- 0x3030_3030_3030_3030
        x = (x &* 10) &+ (x >> 8)  // pairs of digits in every other byte
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let high: UInt64 = (x & mask) &* (100 + (1_000_000 << 32))
        let low: UInt64 = ((x >> 16) & mask) &* (1 + (10_000 << 32))
        return (high &+ low) >> 32
    }
}
