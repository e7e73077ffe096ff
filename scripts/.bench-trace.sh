#!/usr/bin/env bash
# Registrations under load, over real HTTP. Seeds a fresh SQLite file with N direct opportunities
# (default 1,000,000) through the product's store, starts the Release build on 127.0.0.1, creates
# partners and their keys through the API, then drives with wrk at 32 connections:
#   POST /v1/registrations (a new customer each, realistic body, an Idempotency-Key each),
#   GET  /v1/registrations/{id}, and GET /health/live (the framework's floor);
# and measures SQLite's raw single-row commit rate on the same file system at the same synchronous
# setting, the process RSS, and the time from process start to /health/ready on the existing file.
#   scripts/bench-load.sh [opportunities] [seconds per phase]
# Needs wrk (apt-get install wrk). CONNECTIONS=N changes the 32 connections; CURVE="1 8 128" the registration curve's. The load generator shares the
# machine's cores with the service.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
opportunities="${1:-1000000}"
duration="${2:-30}"
connections=${CONNECTIONS:-32}
port=5392
work="$(mktemp -d)"
db="$work/load.db"
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
run="$(date +%s)"
server=""
stop_server() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi; }
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get update && apt-get install -y wrk" >&2; exit 1; }
if curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1; then echo "port $port is taken: stop what listens there" >&2; exit 1; fi
dotnet build "$root/tests/PartnerDeals.Benchmarks" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version) SDK; $(date -u +%Y-%m-%d)"
dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- load-seed "$db" "$opportunities"

# Starts the service on the file; ready_ms is the time from process start to /health/ready = 200.
start_server() {
  local started=$(date +%s%N)
  # The partners' check quota (10 a minute by default) would cap the load at 200 a minute: the bench measures the work.
  ConnectionStrings__PartnerDeals="Data Source=$db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false \
    ConflictChecks__PartnerQuota__PerMinute=100000 ConflictChecks__PartnerQuota__PerDay=1000000 \
    Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >>"$work/host.log" 2>&1 &
  server=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready"; do
    kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}
start_server
echo "time to ready on the existing file ($opportunities opportunities): $ready_ms ms"

api() { curl -fsS -H "X-Api-Key: $key" -H "Content-Type: application/json" "$@"; }
: >"$work/keys.txt"
for i in $(seq 1 20); do
  partner=$(api -X POST "http://127.0.0.1:$port/v1/partners" \
    -d "{\"name\":\"Load Partner $i\",\"type\":\"reseller\",\"tier\":\"silver\",\"contactEmail\":\"alliances@partner$i.example\"}")
  id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$partner")
  api -X POST "http://127.0.0.1:$port/v1/partners/$id/api-keys" -d '{"name":"portal"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >>"$work/keys.txt"
done

# Every script reports the same way: requests/s, p50, p99 and errors, from wrk's own histogram.
cat >"$work/report.lua" <<'LUA'
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %.0f req/s  p50 %.2f ms  p99 %.2f ms  (%d requests in %.0f s; errors: connect %d, read %d, write %d, timeout %d, status>=400 %d)\n",
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests, seconds,
    e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

# A new customer per request: a made-up brand unique to (thread, counter), a shared word, a legal form.
cat "$work/report.lua" - >"$work/register.lua" <<LUA
local syllables = {"ra","ve","lo","ta","mi","zen","kor","dal","fi","nex","tor","qua","bel","sol","mar","vin","ka","lu","dro","pex"}
local shared = {"Global","Solutions","Systems","Logistics","Health","Software","Energy","Capital"}
local forms = {"GmbH","Inc.","Ltd","S.A.","B.V.","AG","LLC","Oy"}
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args)
  keys = {}
  for line in io.lines("$work/keys.txt") do table.insert(keys, line) end
  -- Each run of wrk starts from its own offset, so every phase registers companies never seen before.
  counter = (os.time() % 10000) * 20000
end
local function brand(n)
  local s = ""
  repeat s = s .. syllables[n % #syllables + 1]; n = math.floor(n / #syllables) until n == 0
  return s:sub(1, 1):upper() .. s:sub(2)
end
function request()
  counter = counter + 1
  local n = tid * 100000000 + counter
  local b = brand(n + 9000)
  local body = string.format([[{"customer":{"companyName":"%s %s %s","domain":"%s.example","country":"DE","industry":"manufacturing","employeeCount":%d},"contact":{"name":"Maria Schmidt","email":"maria.schmidt@%s.example","title":"Head of IT"},"deal":{"name":"Warehouse analytics rollout","products":["analytics","connectors"],"estimatedValue":%d,"currency":"EUR","expectedCloseDate":"2027-03-31"},"coSell":{"relationshipOwner":"partner","demo":"vendor","contract":"partner"}}]],
    b, shared[n % #shared + 1], forms[n % #forms + 1], b:lower(), 200 + n % 5000, b:lower(), 20000 + (n % 400) * 1000)
  return wrk.format("POST", "/v1/registrations", {
    ["X-Api-Key"] = keys[n % #keys + 1], ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "$run-" .. tid .. "-" .. counter }, body)
end
LUA

cat "$work/report.lua" - >"$work/read.lua" <<LUA
function init(args)
  ids = {}
  for line in io.lines("$work/ids.txt") do table.insert(ids, line) end
  math.randomseed(os.time())
end
function request()
  return wrk.format("GET", "/v1/registrations/" .. ids[math.random(#ids)], { ["X-Api-Key"] = "$key" })
end
LUA

base="http://127.0.0.1:$port"
# Prints the RESULT line under a label with the service's CPU time per request, and leaves its requests/s in rate.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
measure() {
  local line before after
  before=$(cpu_ticks)
  line=$(wrk -t$(( connections < 2 ? 1 : 2 )) -c"$connections" -d"${1}s" --timeout 10s -s "$2" "$3" | grep '^RESULT')
  after=$(cpu_ticks)
  rate=$(awk '{print $2}' <<<"$line")
  echo "$4 ${line#RESULT }; service CPU $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v r="$rate" -v d="$1" \
    'BEGIN { printf "%.2f ms per request, %.2f cores", t / hz * 1000 / (r * d), t / hz / d }')"
}
measure 5 "$work/register.lua" "$base" "warm-up registrations   " >/dev/null
( sleep 3; dotnet-trace collect -p $server --profile dotnet-sampled-thread-time --duration 00:00:00:12 -o /tmp/head.nettrace >/dev/null 2>&1 ) & measure "$duration" "$work/register.lua" "$base" "POST traced"; registrations=$rate; wait; exit 0
# The curve: where the decision queue bends, at fewer and more connections than the main figure's.
for c in ${CURVE:-1 8 128}; do
  saved=$connections; connections=$c
  measure "$duration" "$work/register.lua" "$base" "POST at $c connection(s)"
  connections=$saved
done
sqlite3 "$db" "SELECT id FROM registrations ORDER BY random() LIMIT 20000" >"$work/ids.txt"
measure 5 "$work/read.lua" "$base" "warm-up reads" >/dev/null
measure "$duration" "$work/read.lua" "$base" "GET /v1/registrations/id"
measure "$duration" "$work/report.lua" "$base/health/live" "GET /health/live (floor)"; floor=$rate
echo "service RSS after the run: $(( $(awk '/VmRSS/ {print $2}' /proc/$server/status) / 1024 )) MiB, peak $(( $(awk '/VmHWM/ {print $2}' /proc/$server/status) / 1024 )) MiB"
echo "registrations stored: $(sqlite3 "$db" 'SELECT COUNT(*) FROM registrations'), outbox rows: $(sqlite3 "$db" 'SELECT COUNT(*) FROM outbox_events')"

stop_server
start_server
echo "time to ready after a restart (file cache warm): $ready_ms ms"
stop_server
raw=$(dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- raw-commits "$work" "$duration" full)
echo "$raw"
commits=$(sed -E 's/^raw commits: ([0-9]+)\/s.*/\1/' <<<"$raw")
awk -v r="$registrations" -v f="$floor" -v c="$commits" \
  'BEGIN { printf "ratios: registrations / floor %.3f, registrations / raw commits %.3f (target >= 0.5)\n", r / f, r / c }'
