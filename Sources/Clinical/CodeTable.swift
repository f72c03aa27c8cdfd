/// Interns SNOMED CT and dm+d concept ids (up to 18 digits) to small dense integers.
///
/// Events store the small integer; a code cluster becomes a bit set over them, so "is this event in
/// HYP_COD" is one array load however long the cluster is.
public struct CodeTable: Sendable {
    public private(set) var concepts: [UInt64] = []
    private var index: [UInt64: Int32] = [:]

    public init() {}

    public var count: Int { concepts.count }

    /// The dense id of `concept`, adding it if new.
    public mutating func intern(_ concept: UInt64) -> Int32 {
        if let i = index[concept] { return i }
        let i = Int32(concepts.count)
        concepts.append(concept)
        index[concept] = i
        return i
    }

    /// The dense id of `concept`, or nil if no record uses it.
    public func lookup(_ concept: UInt64) -> Int32? { index[concept] }

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
