#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the kernel says about this process: threads, resident memory, CPU time, file limits.
public enum ProcessStatistics {
    /// The number of OS threads of this process: the entries of `/proc/self/task`.
    public static func threadCount() -> Int {
        guard let directory = opendir("/proc/self/task") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".")
            }
            if !isDot { count += 1 }
        }
        return count
    }

    /// The number of sockets this process has open (entries of `/proc/self/fd` that link to
    /// `socket:[…]`): for a client, its connections, plus a listening socket or two of its own.
    public static func socketCount() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        var target = [CChar](repeating: 0, count: 64)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.first != "." else { continue }
            let length = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            if length > 7, String(decoding: target.prefix(7).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "socket:"
            {
                count += 1
            }
        }
        return count
    }

    /// Resident memory of this process in bytes: the second field of `/proc/self/statm`, in pages.
    public static func residentBytes() -> Int {
        let fields = readSmallFile("/proc/self/statm").split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// User plus system CPU seconds of this process (`RUSAGE_SELF`) or of its waited-for
    /// children (`RUSAGE_CHILDREN`).
    public static func cpuSeconds(children: Bool = false) -> Double {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(__rusage_who_t((children ? RUSAGE_CHILDREN : RUSAGE_SELF).rawValue), &usage)
        #else
            getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
        #endif
        return usage.cpuSeconds
    }

    /// Raises the soft limit on open files to `wanted`, or as far as the hard limit allows.
    ///
    /// - Returns: The soft limit now in force.
    @discardableResult
    public static func raiseFileLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return -1 }
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
            _ = getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
        return Int(limit.rlim_cur)
    }

    #if canImport(Glibc)
        private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}

extension rusage {
    /// User plus system time, in seconds.
    public var cpuSeconds: Double {
        Double(ru_utime.tv_sec) + Double(ru_utime.tv_usec) * 1e-6 + Double(ru_stime.tv_sec)
            + Double(ru_stime.tv_usec) * 1e-6
    }
}
