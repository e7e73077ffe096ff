#!/usr/bin/env bash
# Pipeline pull: the Release build pulls N opportunities (default 200,000) from a local stand-in for
# Salesforce's queryAll (2,000 a page) into a fresh SQLite file; prints opportunities/s, the service's
# peak RSS and, as the reference, SQLite's raw single-row commit rate measured by the benchmarks project.
#   scripts/bench-pipeline.sh [opportunities]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
total="${1:-200000}"
port=5394
work="$(mktemp -d)"
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server=""; stub=""
cleanup() { for p in $server $stub; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/tests/PartnerDeals.Benchmarks" -c Release -v quiet -nologo >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version) SDK; $(date -u +%Y-%m-%d)"
python3 "$root/scripts/bench-pipeline.py" "$total" >"$work/stub.port" & stub=$!
until [[ -s "$work/stub.port" ]]; do sleep 0.05; done
crm="http://127.0.0.1:$(cat "$work/stub.port")"
ConnectionStrings__PartnerDeals="Data Source=$work/pipeline.db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false \
  Crm__Salesforce__InstanceUrl="$crm" Crm__Salesforce__TokenUrl="$crm/services/oauth2/token" Crm__Salesforce__ClientId=bench \
  Crm__Salesforce__ClientSecret=bench Crm__Salesforce__Pipeline__Enabled=true Crm__Delivery__PollInterval=01:00:00 \
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >>"$work/host.log" 2>&1 &
server=$!
started=$(date +%s%N)
peak=0
while true; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0); (( rss > peak )) && peak=$rss
  status=$(curl -fs -H "X-Api-Key: $key" "http://127.0.0.1:$port/v1/sync/pipeline" || echo "[]")
  created=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="salesforce"]; print(s[0]["total"]["created"] if s else 0)' <<<"$status")
  finished=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="salesforce"]; print(1 if s and s[0]["lastFinishedAt"] and s[0]["total"]["created"]>0 else 0)' <<<"$status")
  [[ "$finished" == 1 ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
  sleep 0.2
done
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "RESULT pulled $created opportunities in $elapsed_ms ms (start-up included): $(( created * 1000 / elapsed_ms )) /s; peak RSS $(( peak / 1024 )) MiB"
python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="salesforce"][0]; print("RESULT last error:", s["lastError"], "rejected:", s["total"]["rejected"])' <<<"$status"
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; }
stop_server
echo "RESULT reference: $(dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- raw-commits "$work" 5 full)"
