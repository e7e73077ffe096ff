#!/usr/bin/env python3
"""Imports a CSV file of direct-pipeline opportunities through POST /v1/opportunities/import,
with a progress bar. The file is sent in slices of whole rows (each with the header), so a file of
any size streams without being held in memory, and a failed slice can be re-sent alone.

  scripts/import-opportunities.py pipeline.csv --url http://localhost:5080 --key pd_…
  (the key can also come from PARTNERDEALS_API_KEY; it needs the crm, ops or admin role)

Columns: source, externalId, accountName, accountDomain, country, owner, stage, status, amount,
currency, closeDate, openedDate (header row required; source, externalId, accountName and status must be there).
"""
import argparse, json, os, sys, time, urllib.error, urllib.request


def send(url, key, body):
    request = urllib.request.Request(url + "/v1/opportunities/import", data=body, method="POST",
                                     headers={"Content-Type": "text/csv; charset=utf-8", "X-Api-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"\nimport refused ({error.code}): {error.read().decode('utf-8', 'replace')}")


def bar(done, total, started, rows):
    width = 40
    filled = int(width * done / total) if total else width
    rate = rows / max(time.monotonic() - started, 1e-6)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done / max(total, 1):5.1f}%  {rows:,} rows  {rate:,.0f} rows/s")
    sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--url", default=os.environ.get("PARTNERDEALS_URL", "http://localhost:5080"))
    parser.add_argument("--key", default=os.environ.get("PARTNERDEALS_API_KEY"))
    parser.add_argument("--rows-per-request", type=int, default=20_000)
    args = parser.parse_args()
    if not args.key:
        sys.exit("an API key is needed: --key or PARTNERDEALS_API_KEY")

    total_bytes = os.path.getsize(args.file)
    totals = {"rowsRead": 0, "created": 0, "updated": 0, "rejected": 0}
    rejected = []
    started = time.monotonic()
    with open(args.file, "rb") as f:
        header = f.readline()
        while True:
            lines, quotes = [], 0
            # whole records only: a line break inside quotes continues the record
            while len(lines) < args.rows_per_request or quotes % 2:
                line = f.readline()
                if not line:
                    break
                lines.append(line)
                quotes += line.count(b'"')
            if not lines:
                break
            result = send(args.url.rstrip("/"), args.key, header + b"".join(lines))
            offset = totals["rowsRead"]
            for k in totals:
                totals[k] += result[k]
            for row in result["rejectedRows"]:
                row["index"] += offset
                rejected.append(row)
            bar(f.tell(), total_bytes, started, totals["rowsRead"])
    sys.stderr.write("\n")
    print(json.dumps({**totals, "seconds": round(time.monotonic() - started, 1), "rejectedRows": rejected[:100]}, indent=2))


if __name__ == "__main__":
    main()
