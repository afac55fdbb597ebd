import FerryIO

/// `ferry-s3 cp`, `mv` and `rm`: moves bytes between local files, standard streams and
/// the store with `aws s3`'s rules for names (docs/ferry-s3.md). Each finished step is
/// reported as `aws s3` reports it ("upload: a.txt to s3://b/a.txt").
public final class Transfer {
    public struct Options: Sendable {
        public var recursive = false
        public var contentType: String?
        /// mv: remove the source after each successful copy.
        public var removeSource = false
        public init(recursive: Bool = false, contentType: String? = nil, removeSource: Bool = false) {
            self.recursive = recursive
            self.contentType = contentType
            self.removeSource = removeSource
        }
    }

    public enum TransferError: Error, CustomStringConvertible, Equatable {
        case isDirectory(String)
        case needsKey(String)
        case unsupported(String)

        public var description: String {
            switch self {
            case let .isDirectory(path): return "\(path): is a folder: use --recursive"
            case let .needsKey(location): return "\(location): a key is needed here, not a bucket or a prefix"
            case let .unsupported(text): return text
            }
        }
    }

    let store: ObjectStore
    let report: (String) -> Void

    public init(store: ObjectStore, report: @escaping (String) -> Void) {
        self.store = store
        self.report = report
    }

    public func copy(_ source: Location, _ destination: Location, _ options: Options) throws {
        let verb = options.removeSource ? "move" : nil
        switch (source, destination) {
        case let (.local(path), .s3(bucket, key)):
            if options.recursive {
                for relative in try localFiles(under: path) {
                    try upload(path + "/" + relative, bucket, folderKey(key) + relative, options, verb ?? "upload")
                }
            } else {
                if try isLocalFolder(path) { throw TransferError.isDirectory(path) }
                try upload(path, bucket, key.isEmpty || key.hasSuffix("/") ? key + baseName(path) : key, options, verb ?? "upload")
            }
        case let (.standardStream, .s3(bucket, key)):
            guard !key.isEmpty, !key.hasSuffix("/") else { throw TransferError.needsKey(destination.text) }
            try store.put(bucket: bucket, key: key, from: FileSource(path: "-"), contentType: options.contentType)
        case let (.s3(bucket, key), .local(path)):
            if options.recursive {
                let prefix = folderKey(key)
                for info in try allObjects(bucket, prefix: prefix) {
                    try download(bucket, info.key, to: path + "/" + String(decoding: info.key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self),
                                 options, verb ?? "download")
                }
            } else {
                guard !key.isEmpty, !key.hasSuffix("/") else { throw TransferError.needsKey(source.text) }
                let intoFolder = try path.hasSuffix("/") || isLocalFolder(path)
                let target = intoFolder ? path + (path.hasSuffix("/") ? "" : "/") + baseName(key) : path
                try download(bucket, key, to: target, options, verb ?? "download")
            }
        case let (.s3(bucket, key), .standardStream):
            guard !key.isEmpty, !key.hasSuffix("/") else { throw TransferError.needsKey(source.text) }
            let sink = FileSink.standardOutput()
            try store.get(bucket: bucket, key: key, into: sink)
            if options.removeSource { try store.delete(bucket: bucket, key: key) }
        case let (.s3(fromBucket, fromKey), .s3(toBucket, toKey)):
            if options.recursive {
                let prefix = folderKey(fromKey)
                for info in try allObjects(fromBucket, prefix: prefix) {
                    let rest = String(decoding: info.key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                    try storeCopy(fromBucket, info.key, toBucket, folderKey(toKey) + rest, options, verb ?? "copy")
                }
            } else {
                guard !fromKey.isEmpty, !fromKey.hasSuffix("/") else { throw TransferError.needsKey(source.text) }
                let target = toKey.isEmpty || toKey.hasSuffix("/") ? toKey + baseName(fromKey) : toKey
                try storeCopy(fromBucket, fromKey, toBucket, target, options, verb ?? "copy")
            }
        default:
            throw TransferError.unsupported("cannot copy from \(source.text) to \(destination.text): one side must be s3://")
        }
    }

    /// `rm`: one object, or with `recursive` every object under the prefix (as a folder).
    public func remove(_ location: Location, recursive: Bool) throws {
        guard case let .s3(bucket, key) = location else {
            throw TransferError.unsupported("\(location.text): rm takes an s3:// location")
        }
        if recursive {
            for info in try allObjects(bucket, prefix: folderKey(key)) {
                try store.delete(bucket: bucket, key: info.key)
                report("delete: s3://\(bucket)/\(info.key)")
            }
        } else {
            guard !key.isEmpty, !key.hasSuffix("/") else { throw TransferError.needsKey(location.text) }
            try store.delete(bucket: bucket, key: key)
            report("delete: s3://\(bucket)/\(key)")
        }
    }

    // MARK: Steps

    private func upload(_ path: String, _ bucket: String, _ key: String, _ options: Options, _ verb: String) throws {
        try store.put(bucket: bucket, key: key, from: FileSource(path: path), contentType: options.contentType)
        if options.removeSource { try removeLocalFile(path) }
        report("\(verb): \(path) to s3://\(bucket)/\(key)")
    }

    private func download(_ bucket: String, _ key: String, to path: String, _ options: Options, _ verb: String) throws {
        let (folderPath, name) = splitPath(path)
        let folder = try storeIO { try Directory.createFollowingLinks(folderPath) }
        _ = try store.head(bucket: bucket, key: key)   // NoSuchKey before any local file is touched
        try storeIO {
            try folder.writeAtomically(name) { sink in try store.get(bucket: bucket, key: key, into: sink) }
        }
        if options.removeSource { try store.delete(bucket: bucket, key: key) }
        report("\(verb): s3://\(bucket)/\(key) to \(path)")
    }

    private func storeCopy(_ fromBucket: String, _ fromKey: String, _ toBucket: String, _ toKey: String,
                           _ options: Options, _ verb: String) throws {
        try store.copy(fromBucket: fromBucket, key: fromKey, toBucket: toBucket, key: toKey, contentType: options.contentType)
        if options.removeSource && (fromBucket != toBucket || fromKey != toKey) { try store.delete(bucket: fromBucket, key: fromKey) }
        report("\(verb): s3://\(fromBucket)/\(fromKey) to s3://\(toBucket)/\(toKey)")
    }

    /// Every object under `prefix`, page by page.
    public func allObjects(_ bucket: String, prefix: String) throws -> [ObjectInfo] {
        var out: [ObjectInfo] = []
        var request = ListRequest(prefix: prefix)
        while true {
            let page = try store.list(bucket: bucket, request)
            out += page.contents
            guard page.isTruncated, let token = page.nextContinuationToken else { return out }
            request.continuationToken = token
        }
    }

    /// A prefix used as a folder: "" stays "", "logs" becomes "logs/".
    private func folderKey(_ key: String) -> String { key.isEmpty || key.hasSuffix("/") ? key : key + "/" }

    private func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private func splitPath(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// True for an existing folder; a file, or nothing, is not one (opening it then says why).
    private func isLocalFolder(_ path: String) throws -> Bool {
        ((try? Directory.open(path, followLinks: true)) ?? nil) != nil
    }

    private func removeLocalFile(_ path: String) throws {
        let (folder, name) = splitPath(path)
        _ = try storeIO { try Directory.open(folder, followLinks: true)?.removeFile(name) }
    }

    /// Files under a local folder, as paths relative to it, in byte order.
    private func localFiles(under path: String) throws -> [String] {
        guard let root = try storeIO({ try Directory.open(path, followLinks: true) }) else {
            throw ObjectStoreError.io(.openFailed(path: path, errno: 2))
        }
        var out: [String] = []
        func walk(_ folder: Directory, _ relative: String) throws {
            for entry in try folder.entries() {
                if entry.kind == .file { out.append(relative + entry.name) }
                if entry.kind == .directory, let sub = try folder.subdirectory(entry.name) {
                    try walk(sub, relative + entry.name + "/")
                }
            }
        }
        try storeIO { try walk(root, "") }
        return out.sorted(by: bytesLess)
    }
}
