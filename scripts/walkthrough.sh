#!/usr/bin/env bash
# The README's walk-through, step by step, against a running service with an empty database:
#   API=http://127.0.0.1:5080 ADMIN=<admin key> bash scripts/walkthrough.sh
# Each step checks the answer the README shows and stops with a non-zero exit at the first that differs.
# A host test runs it against the real process, so the README's commands cannot drift from what the service does.
set -euo pipefail
API="${API:-http://localhost:5080}"
: "${ADMIN:?set ADMIN to the admin key printed at start-up}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# call METHOD PATH KEY [BODY] [CONTENT-TYPE]: the status in $status, the body in $work/body, the headers in $work/headers.
call() {
  local method=$1 path=$2 key=$3 body=${4:-} type=${5:-application/json}
  local args=(-s -X "$method" "$API$path" -H "X-Api-Key: $key" -D "$work/headers" -o "$work/body" -w '%{http_code}')
  if [[ -n "$body" ]]; then args+=(-H "Content-Type: $type" --data-binary "$body"); fi
  status=$(curl "${args[@]}")
}
# field NAME: a field of the last answer (a dotted path, e.g. terms.tier).
field() {
  python3 - "$work/body" "$1" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2].split("."):
    value = value[int(part)] if isinstance(value, list) else value[part]
print(value)
PY
}
expect() {  # expect STEP STATUS [FIELD=VALUE ...]
  local step=$1 want=$2; shift 2
  if [[ "$status" != "$want" ]]; then echo "step $step: expected $want, got $status: $(cat "$work/body")" >&2; exit 1; fi
  for pair in "$@"; do
    local got; got=$(field "${pair%%=*}")
    if [[ "$got" != "${pair#*=}" ]]; then echo "step $step: expected ${pair%%=*} = ${pair#*=}, got $got: $(cat "$work/body")" >&2; exit 1; fi
  done
  echo "step $step: $status ${*:-}"
}

# 1. Two partners, each with its own key.
call POST /v1/partners "$ADMIN" '{"name":"Northwind Consulting","type":"implementation","tier":"gold","contactEmail":"alliances@northwind.example"}'
expect 1a 201 tier=gold; NORTHWIND=$(field id)
call POST "/v1/partners/$NORTHWIND/api-keys" "$ADMIN" '{"name":"Northwind portal"}'
expect 1b 201 role=partner; NORTHWIND_KEY=$(field key)
call POST /v1/partners "$ADMIN" '{"name":"Fabrikam Partners","type":"reseller","tier":"gold","contactEmail":"channel@fabrikam.example"}'
expect 1c 201; FABRIKAM=$(field id)
call POST "/v1/partners/$FABRIKAM/api-keys" "$ADMIN" '{"name":"Fabrikam portal"}'
expect 1d 201; FABRIKAM_KEY=$(field key)

# 2. The vendor's direct pipeline: one opportunity by its CRM id, two more from a CSV file.
call PUT /v1/opportunities/salesforce/006A000001 "$ADMIN" \
  '{"accountName":"Contoso Pharma GmbH","accountDomain":"contoso-pharma.de","country":"DE","status":"open","amount":250000,"currency":"EUR"}'
expect 2a 201 accountName="Contoso Pharma GmbH"
call POST /v1/opportunities/import "$ADMIN" $'source,externalId,accountName,accountDomain,country,status\nhubspot,9001,Litware Inc.,litware.example,US,open\nhubspot,9002,Adventure Works Ltd,adventure-works.example,GB,won\n' text/csv
expect 2b 200 created=2

# 3. A partner registers the vendor's own account: it waits for review, and is told only that the account is not available.
call POST /v1/registrations "$NORTHWIND_KEY" '{
  "customer": {"companyName": "Contoso Pharma", "domain": "https://www.contoso-pharma.de", "country": "DE"},
  "contact": {"name": "Maria Schmidt", "email": "maria.schmidt@contoso-pharma.de"},
  "deal": {"name": "Analytics rollout", "estimatedValue": 120000, "currency": "EUR"}}'
expect 3 201 status=pending_review verdict=conflict reason=account_unavailable; CONTOSO=$(field id)

# 4. A new company is approved at once; a second partner claiming it waits behind the first.
call POST /v1/registrations "$NORTHWIND_KEY" '{
  "customer": {"companyName": "Tailspin Toys GmbH", "domain": "tailspin-toys.example", "country": "DE"},
  "contact": {"name": "Jonas Weber", "email": "jonas.weber@tailspin-toys.example"},
  "deal": {"name": "Store analytics", "estimatedValue": 80000, "currency": "EUR"}}'
expect 4a 201 status=approved reason=auto_approved; TAILSPIN=$(field id)
call POST /v1/registrations "$FABRIKAM_KEY" '{
  "customer": {"companyName": "Tailspin Toys", "domain": "tailspin-toys.example", "country": "DE"},
  "contact": {"name": "Jonas Weber", "email": "jonas.weber@tailspin-toys.example"},
  "deal": {"name": "Tailspin expansion", "estimatedValue": 60000, "currency": "EUR"}}'
expect 4b 201 status=pending_review reason=account_unavailable; WAITING=$(field id)

# 5. Ops open the direct conflict, see whose account it is, and keep it for the direct team, telling the partner why.
call GET "/v1/registrations/$CONTOSO" "$ADMIN"
expect 5a 200 verdict=conflict; CONFLICT=$(field conflictId)
call GET "/v1/conflicts/$CONFLICT" "$ADMIN"
expect 5b 200 kind=direct_opportunity
call POST "/v1/conflicts/$CONFLICT/resolve" "$ADMIN" '{"resolution":"keep_direct","note":"Our direct team is already working this account.","visibleToPartner":true}'
expect 5c 200 registration.status=rejected

# 6. The partner reads its answer: rejected, with the note ops shared, never whose account it is.
call GET "/v1/registrations/$CONTOSO" "$NORTHWIND_KEY"
expect 6 200 status=rejected reason=rejected_account_unavailable decisionNote="Our direct team is already working this account."

# 7. The first partner's deal is won: its fee accrues, and its metrics count the win. The second still waits.
call POST "/v1/registrations/$TAILSPIN/outcome" "$ADMIN" '{"result":"won","amount":80000,"currency":"EUR"}'
expect 7a 200 status=won
call GET "/v1/partners/$NORTHWIND/fees" "$NORTHWIND_KEY"
expect 7b 200 items.0.amount=8000 items.0.status=accrued
call GET "/v1/partners/$NORTHWIND/metrics" "$NORTHWIND_KEY"
expect 7c 200 won=1
call GET "/v1/registrations/$WAITING" "$FABRIKAM_KEY"
expect 7d 200 status=pending_review

echo "walk-through: every step answered as the README says"
