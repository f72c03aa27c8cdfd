import Foundation

/// Imports the official Primary Care Domain reference set release (RF2 `der2_Refset_Simple…Snapshot…`
/// files) into code-list CSVs named by cluster (`HYP_COD.csv`), so a site uses the current
/// official lists instead of the shipped copies.
public enum RefsetImport {
    public struct Summary: Sendable {
        public var clusters: [String: Int]
        public var unknownRefsets: Int
        public var latestEffectiveTime: String
    }

    /// Cluster names by refset id: the shipped PCD mapping plus any extra pairs.
    public static func clusterNames(extra: [String: String] = [:]) throws -> [String: String] {
        var names: [String: String] = [:]
        if let url = Bundle.module.url(forResource: "codelists/meta-pcd_ruleset_cluster_mapping", withExtension: "csv") {
            let text = try String(contentsOf: url, encoding: .utf8)
            for line in text.split(whereSeparator: \.isNewline).dropFirst() {
                let f = splitCSVLine(String(line))
                if f.count >= 2, !f[1].isEmpty { names[f[1]] = f[0] }
            }
        }
        for (refset, name) in extra { names[refset] = name }
        return names
    }

    /// Reads every `*Refset_Simple*Snapshot*.txt` under `release` (recursively) and writes one CSV per
    /// known cluster into `output`.
    public static func run(release: URL, output: URL, names: [String: String]) throws -> Summary {
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: release, includingPropertiesForKeys: nil) else {
            throw CodeListError("cannot read \(release.path)")
        }
        let files = walker.compactMap { $0 as? URL }.filter {
            let n = $0.lastPathComponent
            return n.contains("Refset_Simple") && n.contains("Snapshot") && n.hasSuffix(".txt")
        }
        guard !files.isEmpty else {
            throw CodeListError("no der2_Refset_Simple…Snapshot….txt files under \(release.path)")
        }
        var members: [String: Set<UInt64>] = [:]
        var unknown = Set<String>()
        var latest = ""
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            var lines = text.split(whereSeparator: \.isNewline).makeIterator()
            guard let header = lines.next()?.split(separator: "\t").map(String.init),
                let cActive = header.firstIndex(of: "active"), let cRefset = header.firstIndex(of: "refsetId"),
                let cComponent = header.firstIndex(of: "referencedComponentId"), let cTime = header.firstIndex(of: "effectiveTime")
            else { throw CodeListError("\(file.lastPathComponent): not an RF2 simple refset file") }
            while let line = lines.next() {
                let f = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard f.count > max(cActive, cRefset, cComponent, cTime), f[cActive] == "1",
                    let component = UInt64(f[cComponent])
                else { continue }
                let refset = String(f[cRefset])
                if String(f[cTime]) > latest { latest = String(f[cTime]) }
                guard let name = names[refset] else { unknown.insert(refset); continue }
                members[name, default: []].insert(component)
            }
        }
        try fm.createDirectory(at: output, withIntermediateDirectories: true)
        for (name, concepts) in members {
            let body = "code,term\n" + concepts.sorted().map { "\($0),\n" }.joined()
            try Data(body.utf8).write(to: output.appending(path: "\(name).csv"), options: .atomic)
        }
        try Data("PCD refset release, effectiveTime \(latest), imported \(Date())\n".utf8)
            .write(to: output.appending(path: "RELEASE.txt"), options: .atomic)
        return Summary(clusters: members.mapValues(\.count), unknownRefsets: unknown.count, latestEffectiveTime: latest)
    }
}
