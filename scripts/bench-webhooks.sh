#!/usr/bin/env bash
# Partner webhooks under load: from a registration's commit to the receiver's 2xx, at RATE events/s
# for SECONDS seconds, with the dispatcher's defaults (only Webhooks:AllowLoopbackHttp, so the
# receiver can sit on loopback, and the partner check quota raised). Starts the Release build on a fresh SQLite file; the receiver and the
# load generator are Python on the same cores.
#   scripts/bench-webhooks.sh [rate, default 100] [seconds, default 60]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rate="${1:-100}"
seconds="${2:-60}"
port=5393
work="$(mktemp -d)"
key="pd_benchmark_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server=""
cleanup() { if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

if curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1; then echo "port $port is taken: stop what listens there" >&2; exit 1; fi
dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version) SDK; $(date -u +%Y-%m-%d)"
# The partner's check quota (10 a minute by default) would refuse all but the first registrations: the bench measures delivery.
ConnectionStrings__PartnerDeals="Data Source=$work/webhooks.db" Auth__BootstrapAdminKey="$key" RateLimiting__Enabled=false \
  ConflictChecks__PartnerQuota__PerMinute=100000 ConflictChecks__PartnerQuota__PerDay=1000000 Webhooks__AllowLoopbackHttp=true Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" >>"$work/host.log" 2>&1 &
server=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready"; do
  kill -0 "$server" 2>/dev/null || { cat "$work/host.log" >&2; exit 1; }
  sleep 0.05
done
cpu_before=$(awk '{print $14 + $15}' "/proc/$server/stat")
python3 "$root/scripts/bench-webhooks.py" "http://127.0.0.1:$port" "$key" "$rate" "$seconds"
cpu_after=$(awk '{print $14 + $15}' "/proc/$server/stat")
echo "RESULT service CPU over the run: $(( (cpu_after - cpu_before) * 1000 / $(getconf CLK_TCK) )) ms"
