dofile(os.getenv("WRK_COMMON"))
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
function request()
  sequence = sequence + 1
  return wrk.format(nil, nil, nil, string.format(
    '{"TableName":"Bench","Item":{"pk":{"S":"w%d-%d"},"sk":{"N":"0"},"name":{"S":"item %d"},"score":{"N":"%d"}}}',
    id, sequence, sequence, sequence % 1000))
end
