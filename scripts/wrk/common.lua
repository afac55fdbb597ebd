-- Shared by the ferry-serve benchmark scripts: DynamoDB's JSON protocol headers, a
-- per-thread id for unique keys, and one RESULT line (the caller also reads wrk's own
-- "Non-2xx or 3xx responses" line: no response() callback, which would slow wrk down).
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
-- moto routes by the credential scope's service; ferry-serve (no --credentials) ignores it.
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"
wrk.headers["X-Amz-Date"] = "20260101T000000Z"

KEYS = tonumber(os.getenv("BENCH_KEYS") or "1000")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919)
  sequence = 0
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
