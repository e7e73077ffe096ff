"""The load of scripts/bench-batch.sh: singles at a steady rate alone, then beside a committing batch; prints RESULT lines."""
import json, random, string, sys, threading, time, urllib.request

base, admin, rows, rate, alone = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])


def call(method, path, key, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers={"X-Api-Key": key, "Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return answer.status, json.loads(answer.read() or b"null")


def word():
    return "".join(random.choice(string.ascii_lowercase) for _ in range(9))


def partner(tier):
    _, created = call("POST", "/v1/partners", admin, {"name": "Bench " + word(), "type": "reseller", "tier": tier, "contactEmail": "a@b.example"})
    _, issued = call("POST", f"/v1/partners/{created['id']}/api-keys", admin, {"name": "bench"})
    return issued["key"]


def single_body():
    a, b = word(), word()
    return {"customer": {"companyName": f"{a.title()} {b.title()} GmbH", "domain": f"{a}{b}.example", "country": "DE"},
            "contact": {"name": "Maria Schmidt", "email": "maria@customer.example"},
            "deal": {"name": "Rollout", "estimatedValue": 50000, "currency": "EUR"}}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def singles(key, stop, latencies):
    interval = 1.0 / rate
    next_at = time.perf_counter()
    while not stop.is_set():
        next_at += interval
        started = time.perf_counter()
        status, _ = call("POST", "/v1/registrations", key, single_body())
        latencies.append((time.perf_counter() - started) * 1000)
        wait = next_at - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


floor = []
for _ in range(200):
    started = time.perf_counter()
    urllib.request.urlopen(base + "/health/live").read()
    floor.append((time.perf_counter() - started) * 1000)
print(f"RESULT /health/live round trip p50 {percentile(floor, 50):.2f} ms")

single_key, batch_key = partner("gold"), partner("gold")
lines = ["externalRef,companyName,domain,country,contactName,contactEmail,dealName,estimatedValue,currency"]
for i in range(rows):
    a, b = word(), word()
    lines.append(f"B-{i},{a.title()} {b.title()} GmbH,{a}{b}.example,DE,Maria Schmidt,maria@customer.example,Rollout,50000,EUR")
upload = ("\n".join(lines) + "\n").encode()

alone_latencies, stop = [], threading.Event()
worker = threading.Thread(target=singles, args=(single_key, stop, alone_latencies))
worker.start()
time.sleep(alone)
stop.set()
worker.join()
print(f"RESULT singles alone at {rate:g}/s: {len(alone_latencies)} requests, p50 {percentile(alone_latencies, 50):.1f} ms, "
      f"p99 {percentile(alone_latencies, 99):.1f} ms")

beside, stop = [], threading.Event()
worker = threading.Thread(target=singles, args=(single_key, stop, beside))
worker.start()
started = time.perf_counter()
_, batch = call("POST", "/v1/registration-batches?mode=commit", batch_key, upload, "text/csv")
while True:
    _, state = call("GET", f"/v1/registration-batches/{batch['id']}", batch_key)
    if state["state"] in ("completed", "completed_with_errors", "failed", "cancelled"):
        break
    time.sleep(0.5)
elapsed = time.perf_counter() - started
stop.set()
worker.join()
print(f"RESULT batch of {rows} rows {state['state']} in {elapsed:.1f} s: {state['committedRows'] / elapsed:.0f} rows/s, outcomes {state['outcomes']}")
print(f"RESULT singles beside the batch: {len(beside)} requests, p50 {percentile(beside, 50):.1f} ms, p99 {percentile(beside, 99):.1f} ms "
      f"({percentile(beside, 99) / percentile(alone_latencies, 99):.2f}x alone; goal within 2x)")
