@testable import Extracts
import Testing

@Suite("RFC 4180 CSV scanning")
struct CSVScannerTests {
    func records(_ text: String) -> [[String]] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            var scanner = CSVScanner(UnsafeRawBufferPointer(raw))
            var out: [[String]] = []
            while case .record = scanner.next() { out.append((0..<scanner.fieldCount).map { scanner.string($0) }) }
            return out
        }
    }

    @Test("quoted fields keep commas, newlines and doubled quotes")
    func quoted() {
        #expect(records("a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",x,\n") == [["a", "b,c", "say \"hi\""], ["multi\nline", "x", ""]])
    }

    @Test("CRLF line ends, a byte-order mark, blank lines and a missing final newline")
    func lineEnds() {
        #expect(records("\u{FEFF}h1,h2\r\n1,2\r\n\r\n3,4") == [["h1", "h2"], ["1", "2"], ["3", "4"]])
    }

    @Test("the record line counts lines inside quoted fields")
    func lineNumbers() {
        var bytes = Array("h\n\"a\nb\"\nc\n".utf8)
        bytes.withUnsafeMutableBytes { raw in
            var scanner = CSVScanner(UnsafeRawBufferPointer(raw))
            var lines: [Int] = []
            while case .record = scanner.next() { lines.append(scanner.recordLine) }
            #expect(lines == [1, 2, 4])
        }
    }

    @Test("lines without quotes split at every comma, however the commas fall against eight-byte words")
    func unquotedSplitting() {
        // Every field length from 0 to 19 next to every other, with '-' and '+' (bytes either side of ',')
        // around the commas, CRLF and LF line ends: compared with a plain split.
        var lines: [[String]] = []
        for a in 0..<20 {
            for b in [0, 1, 7, 8, 9, 15] {
                let left = String(repeating: a % 2 == 0 ? "-" : "+", count: a)
                let right = String(repeating: "9", count: b) + "-"
                lines.append([left, right, "", "x,".dropLast().description, left + "+" + right])
            }
        }
        let text = lines.enumerated().map { i, f in f.joined(separator: ",") + (i % 3 == 0 ? "\r\n" : "\n") }.joined()
        #expect(records(text) == lines)
        let wide = (0..<64).map(String.init).joined(separator: ",")
        #expect(records(wide + "\n" + "a,b\n") == [wide.split(separator: ",", omittingEmptySubsequences: false).map(String.init), ["a", "b"]])
        var bytes = Array((wide + ",65\na,b\n").utf8)
        bytes.withUnsafeMutableBytes { raw in
            var scanner = CSVScanner(UnsafeRawBufferPointer(raw))
            guard case .malformed(_, let reason) = scanner.next() else { Issue.record("a 65-field record must be refused"); return }
            #expect(reason.contains("more than 64 fields"))
            guard case .record = scanner.next() else { Issue.record("the next line must still be read"); return }
            #expect((0..<scanner.fieldCount).map { scanner.string($0) } == ["a", "b"])
            #expect(scanner.recordLine == 2)
        }
    }
}
