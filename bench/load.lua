-- wrk script: replays pre-signed Twilio webhooks from a file, each thread its own share,
-- and prints a JSON summary with the percentiles wrk's own report lacks (p95).
-- Usage: wrk -s bench/load.lua URL -- requests.tsv
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local signature, body = line:match("^([^\t]*)\t(.*)$")
    lines[#lines + 1] = { signature, body }
  end
  step = tonumber(args[2] or "1")
  index = id + 1
  wrk.method = "POST"
end

function request()
  local item = lines[index]
  index = index + step
  if index > #lines then index = id + 1 end
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = item[1],
  }
  return wrk.format(nil, nil, headers, item[2])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
