-- wrk script for POST /api/v1/cases: a bearer token, a unique Idempotency-Key per request and a
-- valid body. Settings come from the environment (bench_cases.py intake sets them):
--   GJ_TOKEN, GJ_PROJECT, GJ_PAIRS (unit:party,unit:party,… of the project's households; calls
--   come from different households in turn, as on a real hotline), GJ_CATEGORY, GJ_RUN (prefix of the keys).
-- At the end it prints one line "JSON {…}" with the counts by status and the latency percentiles.

local token = os.getenv("GJ_TOKEN")
local run = os.getenv("GJ_RUN") or "run"
local project = os.getenv("GJ_PROJECT")
local pairs_env = os.getenv("GJ_PAIRS") or ""
local households = {}
for u, p in string.gmatch(pairs_env, "(%d+):(%d+)") do
  table.insert(households, {u, p})
end
local category = os.getenv("GJ_CATEGORY")

local descriptions = {
  "卫生间漏水，楼下天花板渗水，请尽快派人处理。",
  "厨房水管漏水，水表一直在转，家里有老人小孩。",
  "主卧窗框漏水，窗台积水，希望今天下午上门。",
  "阳台地漏返水，墙角漏水，已经反映过一次了。",
}

local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  status_201 = 0
  status_200 = 0
  non_2xx = 0
end

function request()
  counter = counter + 1
  local household = households[((counter * 7 + tid * 131) % #households) + 1]
  local unit, party = household[1], household[2]
  local body = string.format(
    '{"type":"repair","channel":"hotline","project":%s,"category":%s,"units":[%s],"party":%s,'
      .. '"description":"%s"}',
    project, category, unit, party, descriptions[(counter % #descriptions) + 1]
  )
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, tid, counter),
  }
  return wrk.format("POST", "/api/v1/cases", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    status_201 = status_201 + 1
  elseif status == 200 then
    status_200 = status_200 + 1
  else
    non_2xx = non_2xx + 1
    if non_2xx <= 3 then
      io.stderr:write(string.format("status %d: %s\n", status, string.sub(body, 1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local s201, s200, bad = 0, 0, 0
  for _, thread in ipairs(threads) do
    s201 = s201 + thread:get("status_201")
    s200 = s200 + thread:get("status_200")
    bad = bad + thread:get("non_2xx")
  end
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'JSON {"requests":%d,"duration_s":%.2f,"requests_per_s":%.1f,"status_201":%d,"status_200":%d,'
      .. '"non_2xx":%d,"socket_errors":%d,"p50_ms":%.1f,"p90_ms":%.1f,"p95_ms":%.1f,"p99_ms":%.1f,"max_ms":%.1f}\n',
    summary.requests, seconds, summary.requests / seconds, s201, s200, bad,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000
  ))
end
