// HTTPS for remote endpoints through the toolchain's FoundationNetworking (URLSession over
// libcurl and the system's OpenSSL and CA store). TLS is the one piece Ferry does not
// write itself: a TLS stack is not "small", and a home-made one would be the least
// trustworthy code in the project (docs/remote.md, "HTTPS").
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import FerryHTTP
import Synchronization

/// Sends requests to one `https://` (or `http://`) endpoint with URLSession. Thread-safe:
/// requests from many threads share the session's connection pool; each call blocks its
/// thread until the response is complete.
public final class URLSessionTransport: NSObject, HTTPTransport, URLSessionDataDelegate, @unchecked Sendable {
    public let endpoint: HTTPEndpoint
    private let idleTimeout: Double
    private var session: URLSession!  // set once in init, before any request
    private let tasks = Mutex<[Int: TaskState]>([:])

    /// One request's state; touched by the delegate's serial queue and then by the caller
    /// after `done` is signalled (rule 16, docs/concurrency.md).
    private final class TaskState: @unchecked Sendable {
        let maxBodyBytes: Int
        let sink: ((UnsafeRawBufferPointer) throws -> Void)?
        var response: HTTPURLResponse?
        var body: [UInt8] = []
        var failure: HTTPClientError?
        let done = DispatchSemaphore(value: 0)
        init(maxBodyBytes: Int, sink: ((UnsafeRawBufferPointer) throws -> Void)?) {
            self.maxBodyBytes = maxBodyBytes
            self.sink = sink
        }
    }

    public init(endpoint: HTTPEndpoint, connectTimeout: Double = 10, idleTimeout: Double = 60, maxConnections: Int = 64) {
        self.endpoint = endpoint
        self.idleTimeout = idleTimeout
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    deinit { session?.invalidateAndCancel() }

    public func send(_ request: HTTPClientRequest, maxBodyBytes: Int,
                     sink: ((UnsafeRawBufferPointer) throws -> Void)?) throws(HTTPClientError) -> HTTPClientResponse {
        let text = "\(endpoint.scheme.rawValue)://\(endpoint.hostHeader)\(endpoint.basePath)\(request.target)"
        guard let url = URL(string: text) else { throw .invalidEndpoint(text, "not a URL URLSession accepts") }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = idleTimeout
        for field in request.headers.fields where field.name.lowercased() != "content-length" {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        if !request.body.isEmpty || ["POST", "PUT"].contains(request.method) {
            urlRequest.httpBody = Data(request.body)
        }
        let state = TaskState(maxBodyBytes: maxBodyBytes, sink: sink)
        let task = session.dataTask(with: urlRequest)
        tasks.withLock { $0[task.taskIdentifier] = state }
        task.resume()
        state.done.wait()
        if let failure = state.failure { throw failure }
        guard let response = state.response else { throw .malformedResponse("no response") }
        var headers = HTTPHeaders()
        for (name, value) in response.allHeaderFields {
            headers.add("\(name)", "\(value)")
        }
        return HTTPClientResponse(status: response.statusCode, headers: headers, body: state.body)
    }

    private func state(_ task: URLSessionTask) -> TaskState? {
        tasks.withLock { $0[task.taskIdentifier] }
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                           completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        state(dataTask)?.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let state = state(dataTask), state.failure == nil else { return }
        if let sink = state.sink {
            do {
                try data.withUnsafeBytes { try sink($0) }
            } catch {
                state.failure = .sinkFailed("\(error)")
                dataTask.cancel()
            }
        } else if state.body.count + data.count > state.maxBodyBytes {
            state.failure = .responseTooLarge(limit: state.maxBodyBytes)
            dataTask.cancel()
        } else {
            state.body.append(contentsOf: data)
        }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let state = tasks.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let error, state.failure == nil {
            let ns = error as NSError
            switch ns.code {
            case NSURLErrorTimedOut: state.failure = .timedOut(phase: "waiting for the response")
            case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed:
                state.failure = .cannotResolve(host: endpoint.host, ns.localizedDescription)
            case NSURLErrorCannotConnectToHost: state.failure = .cannotConnect(ns.localizedDescription)
            case NSURLErrorNetworkConnectionLost:
                state.failure = .connectionLost(ns.localizedDescription, afterResponseStarted: state.response != nil)
            default: state.failure = .transport("\(ns.localizedDescription) (URLSession error \(ns.code))")
            }
        }
        state.done.signal()
    }
}
