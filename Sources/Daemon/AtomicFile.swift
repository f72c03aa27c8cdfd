import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that readers see the old content or the new, never half of it: a temporary file
/// in the same directory, flushed, then renamed over the target.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let temporary = directory.appending(path: ".\(url.lastPathComponent).\(getpid()).tmp")
    let handle = try FileHandle(forWritingTo: {
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
        return temporary
    }())
    try handle.write(contentsOf: data)
    try handle.synchronize()
    try handle.close()
    guard rename(temporary.path, url.path) == 0 else {
        let code = errno
        try? FileManager.default.removeItem(at: temporary)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, "errno": code])
    }
}
