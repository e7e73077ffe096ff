#!/usr/bin/env python3
"""Partner webhooks under load: from a registration's commit to the receiver's 2xx.

Starts nothing itself: scripts/bench-webhooks.sh starts the service and passes its URL and admin key.
Runs a receiver on loopback, subscribes one partner's endpoint to registration.created, registers
RATE new customers per second for SECONDS seconds, and measures, for every event, the time from the
event's own timestamp (taken in the decision, just before its commit) to the receiver answering 200.
"""
import http.client
import http.server
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

base, key, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = base.split("//")[1].split(":")
port = int(port)
received = {}
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        at = time.time()
        event = json.loads(body)
        with lock:
            received.setdefault(self.headers["webhook-id"], []).append((at, event["timestamp"]))
        answer = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
local = threading.local()


def call(method, path, body=None, api_key=key):
    if not hasattr(local, "conn"):
        local.conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"X-Api-Key": api_key, "Content-Type": "application/json"}
    local.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = local.conn.getresponse()
    data = response.read()
    return response.status, (json.loads(data) if data else None)


status, partner = call("POST", "/v1/partners", {"name": f"Webhook Partner {uuid.uuid4().hex[:8]}", "type": "reseller", "tier": "silver",
                                                "contactEmail": "alliances@partner.example"})
assert status == 201, partner
status, issued = call("POST", f"/v1/partners/{partner['id']}/api-keys", {"name": "portal"})
partner_key = issued["key"]
status, hook = call("POST", f"/v1/partners/{partner['id']}/webhooks",
                    {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hooks", "events": ["registration.created"]}, partner_key)
assert status == 201, hook

# The floor: the same client's round trip to /health/live, sequentially.
floor = []
for _ in range(200):
    started = time.perf_counter()
    call("GET", "/health/live")
    floor.append((time.perf_counter() - started) * 1000)


def register(n):
    word = uuid.uuid4().hex[:10]
    body = {
        "customer": {"companyName": f"Hookbench {word} GmbH", "domain": f"{word}.example", "country": "DE"},
        "contact": {"name": "Maria Schmidt", "email": "maria@customer.example"},
        "deal": {"name": "Rollout", "products": ["analytics"], "estimatedValue": 50000, "currency": "EUR", "expectedCloseDate": "2027-03-31"},
    }
    status, _ = call("POST", "/v1/registrations", body, partner_key)
    return status


total = rate * seconds
started = time.time()
statuses = []
with ThreadPoolExecutor(max_workers=16) as pool:
    futures = []
    for n in range(total):
        due = started + n / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        futures.append(pool.submit(register, n))
    statuses = [f.result() for f in futures]
sent_for = time.time() - started
created = sum(1 for s in statuses if s == 201)
deadline = time.time() + 60
while time.time() < deadline:
    with lock:
        if len(received) >= created:
            break
    time.sleep(0.1)
time.sleep(1)

latencies = []
duplicates = 0
with lock:
    for deliveries in received.values():
        duplicates += len(deliveries) - 1
        at, stamp = deliveries[0]
        latencies.append((at - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) * 1000)
latencies.sort()


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))]


print(f"RESULT registrations {created}/{total} created in {sent_for:.1f} s ({created / sent_for:.0f}/s); "
      f"events delivered {len(received)}, delivered twice {duplicates}")
print(f"RESULT commit to receiver's 2xx: p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, max {latencies[-1]:.1f} ms")
print(f"RESULT reference: /health/live round trip from the same client p50 {statistics.median(floor):.2f} ms, p99 {pct(sorted(floor), 99):.2f} ms")
receiver.shutdown()
