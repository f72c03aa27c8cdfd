// swift-tools-version: 6.1
//
// qofd: QOF, DES and vaccination achievement for English general practice.
// Data flows one way: extract -> patients -> rule results -> aggregates -> storage -> reports.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "qofd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "qofd", targets: ["qofd"]),
        .library(name: "Postgres", targets: ["Postgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
    ],
    targets: [
        // The system C library, libpq, as Debian's libpq-dev installs it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // Our small safe layer over libpq.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // A private PostgreSQL cluster (initdb / pg_ctl) for the embedded default and the tests.
        .target(
            name: "PostgresCluster",
            dependencies: ["Postgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The clinical data model: calendar days, coded events, a practice's population in columns.
        .target(name: "Clinical", swiftSettings: strict),
        // Extract readers (CSV, FHIR NDJSON), validation and quarantine.
        .target(
            name: "Extracts",
            dependencies: ["Clinical", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // Code lists (clusters) as first-class values; the published lists ship as resources.
        .target(name: "Clusters", resources: [.copy("Resources/codelists")], swiftSettings: strict),
        // Reference data: English IMD by LSOA and the LSOA 2011 -> 2021 lookup.
        .target(name: "ReferenceData", resources: [.copy("Resources")], swiftSettings: strict),
        // Synthetic populations for tests, demos and benchmarks.
        .target(
            name: "Synth",
            dependencies: ["Clinical", "Clusters", "ReferenceData", "Extracts"],
            swiftSettings: strict
        ),
        // The rules engine: versioned rule files (YAML), expressions, evaluation, trace and explanation.
        .target(
            name: "RulesEngine",
            dependencies: [
                "Clinical", "Clusters", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Rulesets")],
            swiftSettings: strict
        ),
        // QOF payment arithmetic and the versioned national figures it needs.
        // Population health: frailty (the eFI estimate, as data), and later risk and segmentation.
        .target(
            name: "Stratification",
            dependencies: ["Clinical", "Clusters", "QRISK3", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
            resources: [.process("Resources")],
            swiftSettings: strict
        ),
        // QRISK3-2017 (LGPL-3 with ClinRisk's additional terms: see Sources/QRISK3/NOTICE.md), coefficients as data.
        .target(
            name: "QRISK3",
            exclude: ["LICENSE-LGPL-3", "LICENSE-GPL-3", "NOTICE.md"],
            resources: [.process("Resources")],
            swiftSettings: strict
        ),
        .target(
            name: "Payments",
            dependencies: ["RulesEngine", "Clusters", .product(name: "Yams", package: "Yams")],
            resources: [.process("Resources")],
            swiftSettings: strict
        ),
        // CQRS extract layouts: write per-field values and achieved points, read values back.
        .target(name: "CQRS", dependencies: ["RulesEngine", "Clinical"], swiftSettings: strict),
        // Declaration reports: HTML, CSV, JSON, FHIR MeasureReport.
        .target(name: "Reports", dependencies: ["RulesEngine", "Storage", "Postgres", "Clinical", "QRISK3"], swiftSettings: strict),
        // Schema migrations and the database side of qofd.
        .target(
            name: "Storage",
            dependencies: [
                "Postgres",
                "Clinical",
                "RulesEngine",
                "Stratification",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            plugins: ["EmbedMigrations"]
        ),
        // Build tool: turns sql/NNNN_*.sql into Swift source so the binary carries its own schema.
        .executableTarget(
            name: "embed-migrations",
            path: "Sources/EmbedMigrationsTool",
            swiftSettings: strict
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["embed-migrations"],
            path: "Sources/EmbedMigrationsPlugin"
        ),
        // The web view: dashboards, worklists, explanations, inequalities, PCN view, sign-in and access.
        .target(
            name: "Web",
            dependencies: [
                "Clinical", "Clusters", "Extracts", "RulesEngine", "Storage", "Postgres", "Payments", "ReferenceData", "Stratification", "QRISK3",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: strict
        ),
        // The daemon: inbox, leases, the pipeline from extract to stored runs, services.
        .target(
            name: "Daemon",
            dependencies: [
                "Clinical", "Extracts", "RulesEngine", "Storage", "Postgres", "Clusters", "Payments", "Reports", "Web", "Stratification", "ReferenceData",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qofd",
            dependencies: [
                "Postgres",
                "PostgresCluster",
                "Storage",
                "Clinical",
                "Extracts",
                "Clusters",
                "ReferenceData",
                "Stratification",
                "Synth",
                "RulesEngine",
                "Payments",
                "CQRS",
                "Reports",
                "Daemon",
                "Web",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Benchmarks: figures, not tests. `swift run -c release copy-benchmark`.
        .executableTarget(
            name: "copy-benchmark",
            dependencies: ["Postgres", "PostgresCluster"],
            path: "Benchmarks/CopyBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "extract-benchmark",
            dependencies: ["Extracts", "Clinical", "Clusters", "ReferenceData", "Synth"],
            path: "Benchmarks/ExtractBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "engine-benchmark",
            dependencies: ["Extracts", "Clinical", "Clusters", "ReferenceData", "Synth", "RulesEngine"],
            path: "Benchmarks/EngineBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "web-benchmark",
            dependencies: [
                "Extracts", "Clinical", "Clusters", "ReferenceData", "Synth", "RulesEngine", "Storage", "Postgres", "PostgresCluster", "Daemon",
                "Payments", "Web",
            ],
            path: "Benchmarks/WebBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "icb-benchmark",
            dependencies: [
                "Extracts", "Clinical", "Clusters", "ReferenceData", "Synth", "RulesEngine", "Storage", "Postgres", "PostgresCluster", "Daemon", "Stratification",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ICBBenchmark",
            exclude: ["indicators.sql", "duckdb_counts.py"],
            swiftSettings: strict
        ),

        // Test support: one throwaway PostgreSQL cluster per test run, a fresh database per test.
        .target(
            name: "TestSupport",
            dependencies: [
                "Postgres", "PostgresCluster", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "PostgresCluster", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ExtractsTests",
            dependencies: ["Extracts", "Clinical", "Synth", "Clusters", "ReferenceData", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RulesEngineTests",
            dependencies: ["RulesEngine", "Clinical", "Clusters", "Extracts", "Synth", "ReferenceData", "Payments", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: ["Daemon", "Storage", "Postgres", "RulesEngine", "Clusters", "Synth", "ReferenceData", "Extracts", "Clinical", "Reports", "Web", "Stratification", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PaymentsTests",
            dependencies: ["Payments", "RulesEngine", "Clusters", "Clinical", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StratificationTests",
            dependencies: ["Stratification", "QRISK3", "Clinical", "Clusters", "Extracts", "Synth", "ReferenceData"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QRISK3Tests",
            dependencies: ["QRISK3"],
            resources: [.copy("qrisk3-2017-test-rows.csv"), .copy("qrisk3-2019-test-rows.csv")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CQRSTests",
            dependencies: ["CQRS", "RulesEngine", "Clinical", "Clusters", "Extracts", "Synth", "TestSupport"],
            exclude: ["cqrs-metadata"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "Daemon", "Storage", "Postgres", "RulesEngine", "Clusters", "Synth", "Clinical", "Payments", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WebTests",
            dependencies: ["Web", "Daemon", "RulesEngine", "Storage", "Postgres", "Clusters", "Synth", "ReferenceData", "Extracts", "Clinical", "Reports", "TestSupport"],
            resources: [.copy("browser_check.py"), .copy("accessibility_check.py")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "Postgres", "TestSupport", "RulesEngine", "Clinical"],
            swiftSettings: strict
        ),
    ]
)
