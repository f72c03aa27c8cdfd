import Foundation

/// The code lists qofd knows by name, with where each came from.
///
/// The default library is the set of published lists shipped with qofd (from `shared/codelists`:
/// NHS Primary Care Domain refset clusters as `HYP_COD`, PRIMIS and GMSDE lists by their file
/// names). A site replaces or adds lists by importing the official PCD refset release.
public struct ClusterLibrary: Sendable {
    public private(set) var lists: [String: CodeList]

    public init(lists: [CodeList] = []) {
        self.lists = Dictionary(lists.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }

    public subscript(name: String) -> CodeList? { lists[name] }

    public mutating func add(_ list: CodeList) { lists[list.name] = list }

    /// The name a shipped file is known by: PCD refset clusters and NHS drug refsets by their cluster
    /// (`pcd-hyp_cod.csv` → `HYP_COD`, `nhsdrug-stat_cod.csv` → `STAT_COD`); other files keep their stem
    /// (`primis-ast.csv` → `primis-ast`), and rules name them as stand-ins.
    public static func clusterName(forFile file: String) -> String {
        let stem = file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
        for prefix in ["pcd-", "nhsdrug-"] where stem.hasPrefix(prefix) && stem.hasSuffix("_cod") {
            return String(stem.dropFirst(prefix.count)).uppercased()
        }
        return stem
    }

    /// The lists shipped with qofd.
    public static func bundled() throws -> ClusterLibrary {
        guard let directory = Bundle.module.url(forResource: "codelists", withExtension: nil) else {
            throw CodeListError("the bundled code lists are missing from this build")
        }
        return try load(directory: directory)
    }

    /// Every `*.csv` code list in a directory (files that are not code lists are skipped).
    public static func load(directory: URL) throws -> ClusterLibrary {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".csv") }.sorted()
        var library = ClusterLibrary()
        for file in files {
            let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
            guard let list = try? CodeList(name: clusterName(forFile: file), csv: text, source: file) else { continue }
            library.add(list)
        }
        return library
    }
}
