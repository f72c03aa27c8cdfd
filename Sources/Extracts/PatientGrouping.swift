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
        items[write..<write + k].sort(by: less)
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
    for p in 0..<fill.count where fill[p] > 1 {
        let base = Int(offsets[p])
        let k = Int(fill[p])
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
