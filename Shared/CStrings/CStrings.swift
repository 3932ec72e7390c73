#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Passes Swift strings (or NULL) to C as an array of `const char *` that lives for the call: libpq's parameter
/// values, rabbitmq-c's header keys and values. One home for both wrappers.
public func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { for p in owned { free(p) } }
    return body(owned.map { $0.map { UnsafePointer($0) } })
}
