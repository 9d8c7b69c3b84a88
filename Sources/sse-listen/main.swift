import SSEListenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

switch SSEListenMain.prepare(arguments: Array(CommandLine.arguments.dropFirst())) {
case .exit(let status):
    exit(status)
case .run(let plan):
    exit(await SSEListenMain.run(plan))
case .verify(let plan):
    exit(await plan.run())
case .load(let plan):
    exit(await plan.run())
}
