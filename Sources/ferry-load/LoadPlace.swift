// Where ferry-load's table is: the data folder or a DynamoDB endpoint. Each says whether
// the table exists, creates it, and opens it as the loader's target.
import Foundation
import FerryAWS
import FerryCLI
import FerryPipeline
import FerryRemote
import FerryTable
import FerryTableService
import FerryValues

protocol LoadPlace: AnyObject {
    var location: String { get }
    func exists() throws -> Bool
    /// CreateTable with `request`; returns once the table takes writes.
    func create(_ request: JSONValue) throws
    func open() throws -> any LoadTarget
    func close()
}

/// Options only a remote table takes.
let remoteOnlyOptions = ["--concurrency", "--max-wcu", "--max-wcu-percent"]

final class LocalLoad: LoadPlace {
    let tableName: String
    let catalog: TableCatalog
    let location: String
    private var table: Table?

    init(table: String, args: ParsedArguments) throws {
        for option in remoteOnlyOptions where args.value(option) != nil {
            throw UsageError.other("\(option) is for a table at an endpoint (--endpoint-url); this load writes the data folder")
        }
        tableName = table
        location = DataFolder.resolve(args)
        catalog = try TableCatalog(dataFolder: location)
    }

    func exists() throws -> Bool {
        try TableCatalog.validateName(tableName)
        return try catalog.names().contains(tableName)
    }

    func create(_ request: JSONValue) throws {
        _ = try DynamoDBService(catalog: catalog, program: "ferry-load").call("CreateTable", request)
    }

    func open() throws -> any LoadTarget {
        let table = try catalog.openForWriting(tableName, program: "ferry-load")
        self.table = table
        return LocalLoadTarget(table)
    }

    func close() { try? table?.close() }
}

final class RemoteLoad: LoadPlace {
    let tableName: String
    let api: RemoteDynamoDB
    var targetOptions = RemoteLoadTarget.Options()
    let maxPercent: Double?
    private var shape: RemoteLoadTarget.TableShape?

    init(settings: AWSSettings, table: String, args: ParsedArguments, options: inout Loader.Options) throws {
        for option in ["--update", "--condition"] where args.value(option) != nil {
            throw UsageError.other("\(option) into a table at an endpoint is not available yet: its writes are not idempotent, so exactly once needs each group in a transaction with its checkpoint (docs/remote.md, \"Loads\")")
        }
        if args.value("--bulk") != nil { throw UsageError.other("--bulk is for the data folder's tables: a remote load writes with BatchWriteItem") }
        tableName = table
        options.bulk = .never
        targetOptions.concurrency = try args.int("--concurrency", default: 8, range: 1...256)
        targetOptions.maxWriteUnits = try args.positiveNumber("--max-wcu", expected: "write units per second")
        maxPercent = try args.positiveNumber("--max-wcu-percent", expected: "percent")
        if targetOptions.maxWriteUnits != nil && maxPercent != nil {
            throw UsageError.other("--max-wcu and --max-wcu-percent both cap the write rate; give one")
        }
        if let percent = maxPercent, percent > 100 {
            throw UsageError.invalidValue(option: "--max-wcu-percent", value: args.value("--max-wcu-percent") ?? "", expected: "a percentage above 0 and at most 100")
        }
        api = RemoteDynamoDB(client: try AWSSettingsError.usageIfOption { try AWSClient(settings: settings) })
    }

    var location: String { api.location }

    func exists() throws -> Bool {
        do {
            shape = try RemoteLoadTarget.describe(api, table: tableName)
            return true
        } catch let error as AWSRequestError where error.code == "ResourceNotFoundException" {
            return false
        }
    }

    func create(_ request: JSONValue) throws {
        if maxPercent != nil {
            throw UsageError.other("--max-wcu-percent: --create makes an on-demand table (no provisioned write capacity); give --max-wcu <units>")
        }
        _ = try api.call("CreateTable", request)
        shape = try RemoteLoadTarget.waitUntilActive(api, table: tableName)
    }

    func open() throws -> any LoadTarget {
        let shape = try self.shape ?? RemoteLoadTarget.describe(api, table: tableName)
        var options = targetOptions
        if let percent = maxPercent {
            guard let units = shape.provisionedWriteUnits else {
                throw UsageError.other("--max-wcu-percent: table '\(tableName)' at \(location) is on demand (no provisioned write capacity); give --max-wcu <units>")
            }
            options.maxWriteUnits = Double(units) * percent / 100
        }
        return RemoteLoadTarget(api: api, table: tableName, schema: shape.schema, options: options)
    }

    func close() {}
}
