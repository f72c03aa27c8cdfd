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

    /// Parses a concept id (6 to 18 decimal digits) from bytes.
    public static func parseConcept(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 6, bytes.count <= 18 else { return nil }
        var v: UInt64 = 0
        for b in bytes {
            let d = b &- 48
            guard d <= 9 else { return nil }
            v = v * 10 + UInt64(d)
        }
        return v
    }
}
