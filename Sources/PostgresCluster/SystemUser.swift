import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A local system account (the `postgres` user) that the server runs as when qofd is run by root.
struct SystemUser: Sendable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    static func named(_ name: String) throws -> SystemUser {
        guard let entry = getpwnam(name) else {
            throw ClusterError(
                "running as root, but there is no '\(name)' user to run PostgreSQL as; install the `postgresql` package")
        }
        return SystemUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid)
    }

    func chown(_ url: URL) throws {
        guard Glibc.chown(url.path, uid, gid) == 0 else {
            throw ClusterError("could not give \(url.path) to user \(name): \(systemError(errno))")
        }
    }

    /// Every ancestor of `url` must let this user pass through (execute permission).
    func assertCanReach(_ url: URL) throws {
        var path = url.deletingLastPathComponent().path
        while path != "/" && !path.isEmpty {
            var info = stat()
            if stat(path, &info) == 0 {
                let mode = info.st_mode
                let passable = (mode & S_IXOTH) != 0 || (info.st_uid == uid && (mode & S_IXUSR) != 0)
                    || (info.st_gid == gid && (mode & S_IXGRP) != 0)
                if !passable {
                    throw ClusterError(
                        "the PostgreSQL server runs as '\(name)', which cannot enter \(path); "
                            + "choose a state directory it can reach (e.g. --state-dir /var/lib/qofd)")
                }
            }
            path = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
    }
}
