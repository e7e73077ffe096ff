#!/usr/bin/env bash
# A bulk registration batch committed beside single registrations: ROWS rows (default 10,000) uploaded with mode=commit while
# one client registers single deals at RATE a second (default 20); the singles' latency is measured first alone for SECONDS
# (default 30), then beside the batch until it completes. Reference in the same run: the /health/live round trip. Starts
# the Release build on a fresh SQLite file; the load generator is Python on the same cores.
#   scripts/bench-batch.sh [rows, default 10000] [rate, default 20] [seconds alone, default 30]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-10000}"
rate="${2:-20}"
seconds="${3:-30}"
port=5394
work="$(mktemp -d)"
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server=""
cleanup() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

if curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1; then echo "port $port is taken: stop what listens there" >&2; exit 1; fi
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version) SDK; $(date -u +%Y-%m-%d)"
# The partners' check quota would refuse all but the first rows: the bench measures the batch, not the quota.
ConnectionStrings__PartnerDeals="Data Source=$work/batch.db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false \
  ConflictChecks__PartnerQuota__PerMinute=100000 ConflictChecks__PartnerQuota__PerDay=1000000 Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >>"$work/host.log" 2>&1 &
server=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready"; do
  kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
  sleep 0.05
done
python3 "$root/scripts/bench-batch.py" "http://127.0.0.1:$port" "$key" "$rows" "$rate" "$seconds"
