#!/usr/bin/env bash
# Runs the API locally: Development environment, SQLite under src/PartnerDeals.Api/data/, Swagger UI at
# http://localhost:5080/swagger. On an empty database it prints a development admin key once.
# Extra arguments go to the app, e.g. scripts/run.sh --urls http://127.0.0.1:6000
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec dotnet run --project "$root/src/PartnerDeals.Api" -- "$@"
