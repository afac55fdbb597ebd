dofile(os.getenv("WRK_COMMON"))
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.GetItem"
function request()
  return wrk.format(nil, nil, nil, string.format(
    '{"TableName":"Bench","Key":{"pk":{"S":"p%d"},"sk":{"N":"%d"}}}', math.random(0, KEYS - 1), math.random(0, 15)))
end
