// swift-tools-version:6.0
// A bare SwiftNIO HTTP/1.1 server answering every request with a fixed JSON body: the floor under any
// Swift HTTP stack on a machine, for bench/http-floor.sh. Not part of Stampede.
import PackageDescription

let package = Package(
    name: "nio-floor",
    dependencies: [.package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")],
    targets: [
        .executableTarget(
            name: "nio-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        )
    ]
)
