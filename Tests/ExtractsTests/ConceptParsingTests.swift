import Clinical
import Testing

/// Concept ids are parsed eight digits at a time; the answer must be the plain decimal one.
@Suite("Concept id parsing")
struct ConceptParsingTests {
    /// The plain reading: 6 to 18 ASCII digits, or nil.
    static func plain(_ bytes: [UInt8]) -> UInt64? {
        guard (6...18).contains(bytes.count), bytes.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + UInt64($1 - 48) }
    }

    static func parse(_ bytes: [UInt8]) -> UInt64? { bytes.withUnsafeBytes { CodeTable.parseConcept($0) } }

    @Test("every length from 1 to 20 digits reads as its decimal value (nil outside 6 to 18)")
    func lengths() {
        var rng = SystemRandomNumberGenerator()
        for n in 1...20 {
            for _ in 0..<200 {
                let digits = (0..<n).map { _ in UInt8.random(in: 48...57, using: &rng) }
                #expect(Self.parse(digits) == Self.plain(digits), "\(String(decoding: digits, as: UTF8.self))")
            }
        }
        #expect(Self.parse(Array("999999999999999999".utf8)) == 999_999_999_999_999_999)
        #expect(Self.parse(Array("000000".utf8)) == 0)
        #expect(Self.parse(Array("22298006".utf8)) == 22_298_006)
    }

    @Test("a byte that is not a digit, at any position, is refused")
    func nonDigits() {
        let bad: [UInt8] = [0x2F, 0x3A, 0x3F, 0x20, 0x2D, 0x2E, 0x00, 0x40, 0x61, 0xB0, 0xB9, 0xFF, 0x39 + 0x80]
        for n in [6, 8, 11, 16, 18] {
            for position in 0..<n {
                for b in bad {
                    var digits = [UInt8](repeating: 0x35, count: n)
                    digits[position] = b
                    #expect(Self.parse(digits) == nil, "length \(n), byte \(b) at \(position)")
                }
            }
        }
    }
}
