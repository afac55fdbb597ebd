dofile(os.getenv("WRK_COMMON"))
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.Query"
function request()
  return wrk.format(nil, nil, nil, string.format(
    '{"TableName":"Bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p%d"}}}',
    math.random(0, KEYS - 1)))
end
