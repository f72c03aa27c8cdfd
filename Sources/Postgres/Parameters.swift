/// Lays parameter values out in one buffer and calls `body` with the C arrays `PQexecParams` wants.
///
/// Every pointer handed to libpq stays valid for the whole call, because the values live in a
/// single array that outlives `body` (no pointer escapes a `withUnsafe…` closure).
func withParameters<R>(
    _ bindings: [PostgresBinding],
    _ body: (
        Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
        UnsafePointer<Int32>?
    ) -> R
) -> R {
    if bindings.isEmpty { return body(0, nil, nil, nil, nil) }
    var storage: [UInt8] = []
    var offsets: [Int?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    var types: [UInt32] = []
    for binding in bindings {
        switch binding {
        case .null:
            offsets.append(nil)
            lengths.append(0)
            formats.append(0)
            types.append(0)
        case .text(let s):
            offsets.append(storage.count)
            storage.append(contentsOf: s.utf8)
            storage.append(0)
            lengths.append(0)
            formats.append(0)
            types.append(0)
        case .binary(let bytes):
            offsets.append(storage.count)
            storage.append(contentsOf: bytes)
            storage.append(0)
            lengths.append(Int32(bytes.count))
            formats.append(1)
            types.append(PostgresType.bytea.oid)
        }
    }
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!)
        let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
            offset.map { (base + $0).assumingMemoryBound(to: CChar.self) }
        }
        return pointers.withUnsafeBufferPointer { values in
            types.withUnsafeBufferPointer { t in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in
                        body(Int32(bindings.count), t.baseAddress, values.baseAddress, l.baseAddress, f.baseAddress)
                    }
                }
            }
        }
    }
}
