#!/usr/bin/env bash
# Partner metrics and program health at scale: seeds a SQLite file with 200 partners, N registrations
# (default 200,000) and M direct opportunities (default 1,000,000), starts the real host on
# 127.0.0.1 against it (Release), and times the endpoints over HTTP, one request at a time.
#   scripts/bench-metrics.sh [registrations] [opportunities] [requests per case]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
port=5391
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server=""
cleanup() { [[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1; then echo "port $port is taken: stop what listens there" >&2; exit 1; fi
dotnet build "$root/tests/PartnerDeals.Benchmarks" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- metrics-seed "$work/metrics.db" "${1:-200000}" "${2:-1000000}"

ConnectionStrings__PartnerDeals="Data Source=$work/metrics.db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false \
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >"$work/host.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- metrics-time "http://127.0.0.1:$port" "$key" "${3:-200}"
echo "host RSS after the run: $(( $(awk '/VmRSS/ {print $2}' /proc/$server/status) / 1024 )) MiB"
