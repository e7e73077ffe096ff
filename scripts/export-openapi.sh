#!/usr/bin/env bash
# Writes the OpenAPI document the service serves to api-spec/openapi.json.
# Starts the API on a free port against a throw-away SQLite file, fetches /swagger/v1/swagger.json,
# and stops it. The drift test (OpenApiDocumentTests) fails until the result is committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
port="${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')}"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build "$root/src/PartnerDeals.Api" -c Release -v quiet -nologo >/dev/null
ASPNETCORE_ENVIRONMENT=Production \
ConnectionStrings__PartnerDeals="Data Source=$work/spec.db" \
  dotnet "$root/src/PartnerDeals.Api/bin/Release/net10.0/PartnerDeals.Api.dll" --urls "http://127.0.0.1:$port" \
  >"$work/api.log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/api.log"; exit 1; }
  sleep 0.2
done

mkdir -p "$root/api-spec"
# As `dotnet run` serves it: the document names the address it was read from as its server.
curl -fsS -H "Host: localhost:5080" "http://127.0.0.1:$port/swagger/v1/swagger.json" -o "$root/api-spec/openapi.json"
echo "wrote api-spec/openapi.json ($(wc -c <"$root/api-spec/openapi.json") bytes)"
