#!/usr/bin/env bash
# The matching benchmarks. Quality: precision and recall on ../shared/datasets/names/labeled/.
# Speed: conflict checks and ingest at 10,000 and N generated opportunities (default 1,000,000).
#   scripts/bench-matching.sh quality
#   scripts/bench-matching.sh speed [records] [checks]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$root/tests/PartnerDeals.Benchmarks" -c Release -v quiet -nologo >/dev/null
exec dotnet run -c Release --no-build --project "$root/tests/PartnerDeals.Benchmarks" -- "${@:-quality}"
