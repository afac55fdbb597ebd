import FerryIO
import FerryValues

/// A ListObjectsV2 request.
public struct ListRequest: Sendable {
    public var prefix: String
    public var delimiter: String?
    public var startAfter: String?
    public var continuationToken: String?
    /// S3's default and ceiling: 1000.
    public var maxKeys: Int
    /// When false, listed objects carry only key, size and time (from the file system),
    /// not ETag or checksum (from sidecars): enough for `ls`, and much cheaper.
    public var includeChecksums = true

    public init(prefix: String = "", delimiter: String? = nil, startAfter: String? = nil,
                continuationToken: String? = nil, maxKeys: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.continuationToken = continuationToken
        self.maxKeys = maxKeys
    }
}

public struct ListPage: Sendable {
    public var contents: [ObjectInfo] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    public var nextContinuationToken: String?
    public var keyCount: Int { contents.count + commonPrefixes.count }
}

/// Where a listing resumes: after `after`, skipping keys under `skipPrefix` (the common
/// prefix a page ended on). Tokens name a position in key order, not a snapshot, so they
/// stay valid while objects are added or removed.
struct ListCursor: Equatable {
    var after: String
    var skipPrefix: String?

    /// The opaque token: base64 of a small JSON object.
    var token: String {
        var members = [JSONMember("after", .string(after))]
        if let skipPrefix { members.append(JSONMember("skip", .string(skipPrefix))) }
        return Base64.encode(Array(JSONValue.object(members).jsonText.utf8))
    }

    init(after: String, skipPrefix: String? = nil) {
        self.after = after
        self.skipPrefix = skipPrefix
    }

    init?(token: String) {
        guard let bytes = Base64.decode(token), let value = try? JSONValue.parse(bytes),
              let after = value["after"]?.stringValue else { return nil }
        self.after = after
        skipPrefix = value["skip"]?.stringValue
    }

    /// True when `key` (an object key, or a folder path ending in "/") comes after the cursor.
    func admits(_ key: String) -> Bool {
        if let skipPrefix, hasBytePrefix(key, skipPrefix) { return false }
        return bytesLess(after, key)
    }

    /// True when no key under the folder path `folder` ("a/b/") can come after the cursor.
    func excludesFolder(_ folder: String) -> Bool {
        if let skipPrefix, hasBytePrefix(folder, skipPrefix) { return true }
        return bytesLess(folder, after) && !hasBytePrefix(after, folder)
    }
}

extension ObjectStore {
    /// One page of keys in S3 order (UTF-8 bytes), as ListObjectsV2 returns it.
    public func list(bucket: String, _ request: ListRequest) throws -> ListPage {
        let bucketDir = try bucketDirectory(bucket)
        guard request.maxKeys >= 0 else { throw ObjectStoreError.invalidArgument("max-keys must not be negative") }
        let maxKeys = min(request.maxKeys, 1000)
        var cursor: ListCursor? = request.startAfter.map { ListCursor(after: $0) }
        if let token = request.continuationToken {
            guard let decoded = ListCursor(token: token) else {
                throw ObjectStoreError.invalidArgument("The continuation token provided is incorrect")
            }
            cursor = decoded
        }
        var page = ListPage()
        var lastItem: ListCursor? = nil
        let delimiter = request.delimiter.flatMap { $0.isEmpty ? nil : $0 }
        try storeIO {
            try walk(bucketDir, bucket: bucket, prefix: request.prefix, delimiter: delimiter, cursor: cursor) { visit in
                if page.keyCount == maxKeys {
                    page.isTruncated = maxKeys > 0
                    return false
                }
                switch visit {
                case let .object(key, folder, _, status):
                    if request.includeChecksums {
                        page.contents.append(try info(key: key, bucket: bucket, segments: key.split(separator: "/").map(String.init),
                                                      folder: folder, status: status))
                    } else {
                        page.contents.append(ObjectInfo(key: key, size: status.size, modified: status.modified, etag: "",
                                                        crc32: "", contentType: "", metadata: [:]))
                    }
                    lastItem = ListCursor(after: key)
                case let .commonPrefix(prefix):
                    if page.commonPrefixes.last == prefix { return true }
                    page.commonPrefixes.append(prefix)
                    lastItem = ListCursor(after: prefix, skipPrefix: prefix)
                }
                return true
            }
        }
        if page.isTruncated, let lastItem { page.nextContinuationToken = lastItem.token }
        return page
    }

    /// The first object key in a bucket, if any.
    func firstKey(in bucketDir: Directory) throws -> String? {
        var found: String? = nil
        try storeIO {
            try walk(bucketDir, bucket: "", prefix: "", delimiter: nil, cursor: nil) { visit in
                if case let .object(key, _, _, _) = visit { found = key }
                return false
            }
        }
        return found
    }

    enum Visit {
        case object(key: String, folder: Directory, name: String, status: FileStatus)
        /// A group of keys rolled up by the delimiter, reported without reading it all.
        case commonPrefix(String)
    }

    /// Visits keys that start with `prefix` and come after `cursor`, in key order, until
    /// `visit` returns false. Folders are read in sorted order, a folder sorting as its
    /// name plus "/", which is exactly the order of the keys below them.
    func walk(_ bucketDir: Directory, bucket: String, prefix: String, delimiter: String?, cursor: ListCursor?,
              _ visit: (Visit) throws -> Bool) throws {
        // Go straight to the folder of the prefix's complete segments.
        var folder = bucketDir
        var path = ""
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for part in parts.dropLast() {
            guard !part.isEmpty, part != ".", part != "..",
                  let next = try folder.subdirectory(part) else { return }
            folder = next
            path += part + "/"
        }
        _ = try walkFolder(folder, path: path, prefix: prefix, delimiter: delimiter, cursor: cursor, visit)
    }

    /// Returns false when the visitor asked to stop.
    private func walkFolder(_ folder: Directory, path: String, prefix: String, delimiter: String?, cursor: ListCursor?,
                            _ visit: (Visit) throws -> Bool) throws -> Bool {
        for entry in try sortedEntries(folder) {
            let full = path + entry.name + (entry.isDirectory ? "/" : "")
            if entry.isDirectory {
                guard hasBytePrefix(full, prefix) || hasBytePrefix(prefix, full) else { continue }
                if let cursor, cursor.excludesFolder(full) { continue }
                if let delimiter, full.utf8.count >= prefix.utf8.count,
                   let common = rolledUpPrefix(full, prefix: prefix, delimiter: delimiter) {
                    // Every key below shares this common prefix: report it, skip the folder.
                    if let cursor, cursor.excludesFolder(common) { continue }
                    if try !visit(.commonPrefix(common)) { return false }
                    continue
                }
                guard let sub = try folder.subdirectory(entry.name) else { continue }
                if try !walkFolder(sub, path: full, prefix: prefix, delimiter: delimiter, cursor: cursor, visit) { return false }
            } else {
                guard hasBytePrefix(full, prefix) else { continue }
                if let cursor, !cursor.admits(full) { continue }
                if let delimiter, let common = rolledUpPrefix(full, prefix: prefix, delimiter: delimiter) {
                    if let cursor, let skip = cursor.skipPrefix, hasBytePrefix(common, skip) { continue }
                    if try !visit(.commonPrefix(common)) { return false }
                    continue
                }
                guard let status = try folder.status(entry.name), status.kind == .file else { continue }
                if try !visit(.object(key: full, folder: folder, name: entry.name, status: status)) { return false }
            }
        }
        return true
    }

    /// A folder's objects and subfolders in key order (temporary files, links and
    /// special files left out), cached while the folder's mtime is unchanged.
    private func sortedEntries(_ folder: Directory) throws -> [(name: String, isDirectory: Bool)] {
        let modified = try folder.ownStatus().modified
        if let cached = listingCache[folder.path], cached.modified == modified { return cached.entries }
        var entries: [(name: String, isDirectory: Bool, sortKey: [UInt8])] = []
        for entry in try folder.entries() {
            guard entry.kind == .file || entry.kind == .directory,
                  !entry.name.hasPrefix(Directory.temporaryPrefix) else { continue }
            let isDirectory = entry.kind == .directory
            entries.append((entry.name, isDirectory, Array((isDirectory ? entry.name + "/" : entry.name).utf8)))
        }
        entries.sort { $0.sortKey.lexicographicallyPrecedes($1.sortKey) }
        let result = entries.map { (name: $0.name, isDirectory: $0.isDirectory) }
        listingCache[folder.path] = (modified, result)
        return result
    }
}
