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
}
