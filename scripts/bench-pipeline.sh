#!/usr/bin/env bash
# Pipeline pull: per CRM, the Release build pulls N opportunities (default 200,000) from a local stand-in
# for its read API, in the CRM's page size, into a fresh SQLite file; prints opportunities/s, the service's
# peak RSS and, as the reference, SQLite's raw single-row commit rate measured by the benchmarks project.
# HubSpot runs with Crm:HubSpot:SearchesPerSecond=1000: at HubSpot's own limit (4, the default) a pull of
# 100 a page cannot pass 400/s, whatever the service does; the figure is the service's own cost.
# Then a second, incremental run in which no opportunity changed and [accounts] accounts (default 2,000) were renamed:
# the cost of reading account-level changes (one more query a run, and the renamed accounts' opportunities read again).
#   scripts/bench-pipeline.sh [opportunities] [crms, default "salesforce hubspot dynamics"] [accounts]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
total="${1:-200000}"
crms="${2:-salesforce hubspot dynamics}"
changed="${3:-2000}"
port=5394
work="$(mktemp -d)"
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server=""; stub=""
cleanup() { for p in $server $stub; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/tests/PartnerDeals.Benchmarks" -c Release -v quiet -nologo >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version) SDK; $(date -u +%Y-%m-%d)"
python3 "$root/scripts/bench-pipeline.py" "$total" "$changed" >"$work/stub.port" & stub=$!
until [[ -s "$work/stub.port" ]]; do sleep 0.05; done
crm="http://127.0.0.1:$(cat "$work/stub.port")"
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; }
for name in $crms; do
rm -f "$work"/pipeline.db*
case "$name" in
  salesforce) settings=(Crm__Salesforce__InstanceUrl="$crm" Crm__Salesforce__TokenUrl="$crm/services/oauth2/token" Crm__Salesforce__ClientId=bench
                        Crm__Salesforce__ClientSecret=bench Crm__Salesforce__Pipeline__Enabled=true) ;;
  hubspot) settings=(Crm__HubSpot__BaseUrl="$crm" Crm__HubSpot__AccessToken=bench Crm__HubSpot__Pipeline__Enabled=true Crm__HubSpot__SearchesPerSecond=1000) ;;
  dynamics) settings=(Crm__Dynamics__BaseUrl="$crm" Crm__Dynamics__TokenUrl="$crm/token" Crm__Dynamics__ClientId=bench Crm__Dynamics__ClientSecret=bench
                      Crm__Dynamics__Pipeline__Enabled=true) ;;
esac
env ConnectionStrings__PartnerDeals="Data Source=$work/pipeline.db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false "${settings[@]}" \
  Crm__Delivery__PollInterval=01:00:00 Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >>"$work/host.log" 2>&1 &
server=$!
started=$(date +%s%N)
peak=0
while true; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0); (( rss > peak )) && peak=$rss
  status=$(curl -fs -H "X-Api-Key: $key" "http://127.0.0.1:$port/v1/sync/pipeline" || echo "[]")
  created=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"]; print(s[0]["total"]["created"] if s else 0)' <<<"$status")
  finished=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"]; print(1 if s and s[0]["lastFinishedAt"] and s[0]["total"]["created"]>0 else 0)' <<<"$status")
  [[ "$finished" == 1 ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
  sleep 0.2
done
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "RESULT $name: pulled $created opportunities in $elapsed_ms ms (start-up included): $(( created * 1000 / elapsed_ms )) /s; peak RSS $(( peak / 1024 )) MiB"
python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"][0]; print("RESULT last error:", s["lastError"], "rejected:", s["total"]["rejected"])' <<<"$status"
# The account-level reading: a second run, in which no opportunity changed and $changed accounts were renamed.
first_finished=$(python3 -c 'import json,sys; print([x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"][0]["lastFinishedAt"])' <<<"$status")
started=$(date +%s%N)
curl -fs -X POST -H "X-Api-Key: $key" "http://127.0.0.1:$port/v1/sync/pipeline/$name/run" >/dev/null
while true; do
  status=$(curl -fs -H "X-Api-Key: $key" "http://127.0.0.1:$port/v1/sync/pipeline" || echo "[]")
  again=$(python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"][0]; print(s["lastFinishedAt"] if s["lastFinishedAt"] != "'"$first_finished"'" else "")' <<<"$status")
  [[ -n "$again" ]] && break
  sleep 0.05
done
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin) if x["crm"]=="'"$name"'"][0]; r=s["lastRun"]; print("RESULT", s["crm"], "account changes:", r["updated"], "opportunities of '"$changed"' renamed accounts read again in '"$elapsed_ms"' ms (the whole incremental run); last error:", s["lastError"])' <<<"$status"
stop_server
done
echo "RESULT reference: $(dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- raw-commits "$work" 5 full)"
