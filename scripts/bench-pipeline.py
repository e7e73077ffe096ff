#!/usr/bin/env python3
"""A stand-in for Salesforce's REST API that serves N opportunities through queryAll, 2,000 a page
(Salesforce's batch size), following nextRecordsUrl; and the OAuth token. Prints its port."""
import http.server
import json
import sys
import threading
from urllib.parse import urlparse

total = int(sys.argv[1])
page_size = 2000
words = ["Nordic", "Global", "Systems", "Health", "Logistics", "Energy", "Capital", "Software", "Foods", "Textiles"]


def record(n):
    return {
        "attributes": {"type": "Opportunity"}, "Id": f"006{n:015d}", "IsDeleted": False, "IsClosed": n % 7 == 0, "IsWon": n % 14 == 0,
        "SystemModstamp": f"2026-11-{1 + n // 100000:02d}T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000+0000",
        "Account": {"Name": f"Bench{n:07d} {words[n % 10]} {words[(n // 10) % 10]} GmbH", "Website": f"https://bench{n}.example", "BillingCountry": "DE"},
        "Owner": {"Name": "Dana Direct"}, "StageName": "Prospecting", "Amount": 1000 + n % 5000, "CurrencyIsoCode": "EUR",
        "CloseDate": "2027-01-31", "CreatedDate": "2026-10-01T08:00:00.000+0000",
    }


class Stub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer({"access_token": "bench-token", "instance_url": "http://127.0.0.1", "token_type": "Bearer"})

    def do_GET(self):
        path = urlparse(self.path).path
        start = int(path.rsplit("-", 1)[1]) if "/query/bench-" in path else 0
        end = min(total, start + page_size)
        body = {"totalSize": total, "done": end >= total, "records": [record(n) for n in range(start, end)]}
        if end < total:
            body["nextRecordsUrl"] = f"/services/data/v62.0/query/bench-{end}"
        self.answer(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
print(server.server_address[1], flush=True)
server.serve_forever()
