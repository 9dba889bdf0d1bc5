-- Shared by every scenario script (loaded with dofile). Collects the per-thread
-- counters a scenario names in `counter_names` and prints one JSON line that the
-- harness parses (prefix BENCH_RESULT). Defines no request()/response(), so plain
-- scenarios keep wrk's fast path (prebuilt request, no body parsing).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function counters_json()
  local parts = {}
  for _, name in ipairs(counter_names or {}) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
    end
    table.insert(parts, string.format('"%s":%d', name, total))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
      .. '"counters":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, counters_json()))
end
