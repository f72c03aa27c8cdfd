/// Parses a plain decimal number (`146`, `-1.25`, `5.3`) from bytes; nil for anything else.
/// Exponents, thousands separators and stray spaces are refused: a clinical value is written plainly.
func parseDecimal(_ bytes: UnsafeRawBufferPointer) -> Double? {
    let n = bytes.count
    guard n > 0, n <= 32 else { return nil }
    var i = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if bytes[0] == UInt8(ascii: "+") { i = 1 }
    var integer: Int64 = 0
    var digits = 0
    while i < n, bytes[i] &- 48 <= 9 {
        integer = integer * 10 + Int64(bytes[i] - 48)
        digits += 1
        i += 1
        if digits > 15 { return nil }
    }
    var fraction: Int64 = 0
    var scale: Int64 = 1
    if i < n, bytes[i] == UInt8(ascii: ".") {
        i += 1
        var fractionDigits = 0
        while i < n, bytes[i] &- 48 <= 9 {
            if fractionDigits < 9 {
                fraction = fraction * 10 + Int64(bytes[i] - 48)
                scale *= 10
            }
            fractionDigits += 1
            i += 1
        }
        guard fractionDigits > 0 || digits > 0 else { return nil }
    }
    guard i == n, digits > 0 || scale > 1 else { return nil }
    let value = Double(integer) + Double(fraction) / Double(scale)
    return negative ? -value : value
}
