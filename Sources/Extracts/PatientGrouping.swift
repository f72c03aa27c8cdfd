import Clinical

/// Removes the holes left by rejected rows (each patient `p` has `fill[p]` items from `offsets[p]`)
/// and sorts each patient's slice; rewrites `offsets` to match.
func compactGroups<T>(_ items: [T], offsets: inout [Int32], fill: [Int32], by less: (T, T) -> Bool) -> [T] {
    var items = items
    var write = 0
    for p in 0..<fill.count {
        let base = Int(offsets[p])
        let k = Int(fill[p])
        offsets[p] = Int32(write)
        if base != write {
            for i in 0..<k { items[write + i] = items[base + i] }
        }
        // Extracts usually list a patient's records in order already: check before sorting.
        if k > 1, (write + 1..<write + k).contains(where: { less(items[$0], items[$0 - 1]) }) {
            items[write..<write + k].sort(by: less)
        }
        write += k
    }
    offsets[fill.count] = Int32(write)
    items.removeLast(items.count - write)
    return items
}

/// Drops events identical in every field to another of the same patient (the one from the earlier
/// line is kept). Returns (duplicate line, kept line) pairs for reporting.
func removeDuplicateEvents(
    _ events: inout [Event], lines: [Int32], offsets: [Int32], fill: inout [Int32]
) -> [(Int32, Int32)] {
    var duplicates: [(Int32, Int32)] = []
    /// Strictly before in (date, code, value, value2): a slice in this order has no duplicates.
    func before(_ x: Event, _ y: Event) -> Bool {
        if x.date != y.date { return x.date < y.date }
        if x.code != y.code { return x.code < y.code }
        if x.value.bitPattern != y.value.bitPattern { return x.value.bitPattern < y.value.bitPattern }
        return x.value2.bitPattern < y.value2.bitPattern
    }
    for p in 0..<fill.count where fill[p] > 1 {
        let base = Int(offsets[p])
        let k = Int(fill[p])
        // Most patients' records come in order with none repeated: nothing to do.
        if !(base + 1..<base + k).contains(where: { !before(events[$0 - 1], events[$0]) }) { continue }
        var order = Array(0..<k)
        order.sort { a, b in
            let x = events[base + a], y = events[base + b]
            if x.date != y.date { return x.date < y.date }
            if x.code != y.code { return x.code < y.code }
            if x.value.bitPattern != y.value.bitPattern { return x.value.bitPattern < y.value.bitPattern }
            if x.value2.bitPattern != y.value2.bitPattern { return x.value2.bitPattern < y.value2.bitPattern }
            return lines[base + a] < lines[base + b]
        }
        var kept: [Event] = []
        kept.reserveCapacity(k)
        var last = -1
        for j in order {
            if last >= 0, events[base + j] == events[base + last] {
                duplicates.append((lines[base + j], lines[base + last]))
                continue
            }
            kept.append(events[base + j])
            last = j
        }
        for (i, e) in kept.enumerated() { events[base + i] = e }
        fill[p] = Int32(kept.count)
    }
    return duplicates.sorted { $0.0 < $1.0 }
}

/// The rows of one file in the order read, each with its patient and line, grouped by patient once the
/// file is read: one pass over the bytes. When the file lists its patients in list order (the usual
/// extract), the rows are grouped already and nothing moves.
struct PatientRows<T> {
    private(set) var items: [T] = []
    private var owners: [Int32] = []
    private(set) var lines: [Int32] = []
    private var inOrder = true

    init(expected: Int) {
        items.reserveCapacity(expected)
        owners.reserveCapacity(expected)
        lines.reserveCapacity(expected)
    }

    mutating func append(_ item: T, patient: Int32, line: Int) {
        if let last = owners.last, patient < last { inOrder = false }
        items.append(item)
        owners.append(patient)
        lines.append(Int32(truncatingIfNeeded: line))
    }

    /// The rows grouped by patient (file order kept within each), their lines, each patient's first row
    /// (`offsets`, with the total last) and row count (`fill`). Hands the rows over (they are not copied).
    mutating func grouped(patientCount: Int) -> (items: [T], lines: [Int32], offsets: [Int32], fill: [Int32]) {
        var items: [T] = []
        var lines: [Int32] = []
        swap(&items, &self.items)
        swap(&lines, &self.lines)
        var fill = [Int32](repeating: 0, count: patientCount)
        for o in owners { fill[Int(o)] += 1 }
        var offsets = [Int32](repeating: 0, count: patientCount + 1)
        var total: Int32 = 0
        for p in 0..<patientCount {
            offsets[p] = total
            total += fill[p]
        }
        offsets[patientCount] = total
        if inOrder { return (items, lines, offsets, fill) }
        var next = offsets
        var placed = items
        var placedLines = lines
        for (i, o) in owners.enumerated() {
            let k = Int(next[Int(o)])
            placed[k] = items[i]
            placedLines[k] = lines[i]
            next[Int(o)] += 1
        }
        return (placed, placedLines, offsets, fill)
    }
}
