dofile(os.getenv("WRK_COMMON"))
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.BatchWriteItem"
function request()
  sequence = sequence + 1
  local puts = {}
  for i = 0, 24 do
    puts[#puts + 1] = string.format(
      '{"PutRequest":{"Item":{"pk":{"S":"b%d-%d"},"sk":{"N":"%d"},"name":{"S":"item %d"},"score":{"N":"%d"}}}}',
      id, sequence, i, i, i)
  end
  return wrk.format(nil, nil, nil, '{"RequestItems":{"Bench":[' .. table.concat(puts, ",") .. ']}}')
end
