#if canImport(Glibc)
import Glibc
#endif

// DynamoDB compares strings by their UTF-8 bytes. Swift's String `==` and hashing use
// Unicode canonical equivalence ("é" precomposed equals "e" + combining accent), which
// would merge values DynamoDB keeps apart. Every comparison of names and S values in
// FerryValues goes through these.

/// True when `a` and `b` have the same UTF-8 bytes.
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    // Lengths first: O(1) for native strings, and most names differ in length.
    let n = a.utf8.count
    guard n == b.utf8.count else { return false }
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in n == 0 || memcmp(x.baseAddress!, y.baseAddress!, n) == 0 }
    }
}

/// A String wrapper whose equality and hash are by UTF-8 bytes, for sets of S values.
struct UTF8Key: Hashable {
    let bytes: [UInt8]
    init(_ s: String) { bytes = Array(s.utf8) }
}
