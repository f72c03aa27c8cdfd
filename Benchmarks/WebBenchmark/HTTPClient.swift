import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client over one kept-alive loopback TCP connection, as a browser tab holds one:
/// what it times is the server's answer, not a client library's set-up or a process start.
final class HTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String
        func header(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name }.map(\.1) }
    }

    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    var cookies: [String: String] = [:]

    init(port: Int) { self.port = port }
    deinit { if fd >= 0 { close(fd) } }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { close(fd); fd = -1; throw ClientError("cannot connect to 127.0.0.1:\(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        buffer = []
    }

    func get(_ path: String) throws -> Response { try send("GET", path, body: nil) }

    func post(_ path: String, form: [(String, String)]) throws -> Response {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        return try send("POST", path, body: body)
    }

    private func send(_ method: String, _ path: String, body: String?) throws -> Response {
        try connectIfNeeded()
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: keep-alive\r\n"
        if !cookies.isEmpty { request += "Cookie: " + cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") + "\r\n" }
        if let body {
            request += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "\r\n"
        }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { reset(); throw ClientError("send failed") }
            sent += n
        }
        let response = try readResponse()
        for c in response.header("set-cookie") {
            let pair = c.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            if pair.count == 2 { cookies[String(pair[0])] = String(pair[1]) }
        }
        if response.header("connection").contains(where: { $0.lowercased() == "close" }) { reset() }
        return response
    }

    private func reset() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { reset(); throw ClientError("connection closed") }
        buffer += chunk[0..<n]
    }

    private func readLine() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[0..<i], as: UTF8.self).trimmingCharacters(in: .init(charactersIn: "\r"))
                buffer.removeFirst(i + 1)
                return line
            }
            try fill()
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let out = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return out
    }

    private func readResponse() throws -> Response {
        let statusLine = try readLine()
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [(String, String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers.append((String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))) }
        }
        let find = { (name: String) in headers.first { $0.0.lowercased() == name }?.1 }
        var body: [UInt8] = []
        if let length = find("content-length").flatMap(Int.init) {
            body = try read(length)
        } else if find("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let size = Int(try readLine().split(separator: ";")[0], radix: 16) ?? 0
                if size == 0 { _ = try readLine(); break }
                body += try read(size)
                _ = try readLine()
            }
        }
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}

struct ClientError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
