/// NHS number checks (Modulus 11, NHS Data Dictionary).
public enum NHSNumber {
    /// True for a 10-digit NHS number whose check digit is right. Spaces are not accepted here.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 10 else { return false }
        var sum = 0
        var check = 0
        for i in 0..<10 {
            let d = Int(bytes[i]) - 48
            guard d >= 0, d <= 9 else { return false }
            if i < 9 { sum += d * (10 - i) } else { check = d }
        }
        var expected = 11 - sum % 11
        if expected == 11 { expected = 0 }
        return expected != 10 && expected == check
    }

    public static func isValid(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { isValid($0) }
    }

    /// Makes a valid NHS number from nine digits (for synthetic data); nil when none exists.
    public static func completing(_ nine: Int) -> String? {
        let digits = Array(String(format9(nine)).utf8).map { Int($0) - 48 }
        var sum = 0
        for i in 0..<9 { sum += digits[i] * (10 - i) }
        var check = 11 - sum % 11
        if check == 11 { check = 0 }
        guard check != 10 else { return nil }
        return format9(nine) + String(check)
    }

    private static func format9(_ n: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, 9 - s.count)) + s
    }
}
