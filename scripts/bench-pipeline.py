#!/usr/bin/env python3
"""A stand-in for the three CRMs' read APIs, serving N opportunities in each CRM's page size: Salesforce's
queryAll (2,000 a page, nextRecordsUrl), HubSpot's deal search (100 a page, a new search from the last
modification time) with its v4 associations and companies batch read, and Dataverse's change-tracked
opportunities (5,000 a page, next links, a delta link) with their accounts read by id and the currencies, and the
accounts' change tracking; and the OAuth tokens. Prints its port."""
import http.server
import json
import socket
import sys
import re
import threading
from urllib.parse import unquote, urlparse

total = int(sys.argv[1])
changed = int(sys.argv[2]) if len(sys.argv) > 2 else 2000  # accounts renamed after the full read
page_size = 2000
words = ["Nordic", "Global", "Systems", "Health", "Logistics", "Energy", "Capital", "Software", "Foods", "Textiles"]


def record(n):
    return {
        "attributes": {"type": "Opportunity"}, "Id": f"006{n:015d}", "IsDeleted": False, "IsClosed": n % 7 == 0, "IsWon": n % 14 == 0,
        "SystemModstamp": f"2026-11-{1 + n // 100000:02d}T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}.000+0000",
        "Account": {"Name": f"Bench{n:07d} {words[n % 10]} {words[(n // 10) % 10]} GmbH", "Website": f"https://bench{n}.example", "BillingCountry": "DE",
                    "SystemModstamp": "2026-11-01T00:00:00.000+0000"},
        "Owner": {"Name": "Dana Direct"}, "StageName": "Prospecting", "Amount": 1000 + n % 5000, "CurrencyIsoCode": "EUR",
        "CloseDate": "2027-01-31", "CreatedDate": "2026-10-01T08:00:00.000+0000",
    }


def deal(n):
    return {"id": str(n), "properties": {"dealname": "Bench", "dealstage": "appointmentscheduled", "amount": str(1000 + n % 5000),
            "deal_currency_code": "EUR", "closedate": "2027-01-31T00:00:00Z", "createdate": "2026-10-01T08:00:00Z",
            "hs_lastmodifieddate": str(n), "hs_is_closed": "false", "hs_is_closed_won": "false"}}


def dataverse_row(n):
    return {"opportunityid": f"00000000-0000-0000-0000-{n:012d}", "statecode": 0, "stepname": "2-Develop", "estimatedvalue": 1000 + n % 5000,
            "estimatedclosedate": "2027-01-31", "createdon": "2026-10-01T08:00:00Z",
            "_parentaccountid_value": f"00000000-0000-0000-0000-{n:012d}", "_transactioncurrencyid_value": "eur"}


class Stub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go in two writes: without this, delayed ACKs add 40 ms to every answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        chunks = []
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def do_POST(self):
        raw = self.body()
        path = urlparse(self.path).path
        if path.endswith("/deals/search"):
            body = json.loads(raw)
            filters = body["filterGroups"][0]["filters"] if body["filterGroups"] else []
            # Deal n was last modified at n ms: a search from t, past `after`, is deals t + after onwards.
            since = next((int(f["value"]) for f in filters if f["propertyName"] == "hs_lastmodifieddate"), 0)
            start = since + int(body.get("after", 0))
            end = min(total, start + 100)
            answer = {"total": total - since, "results": [deal(n) for n in range(start, end)]}
            if end < total:
                answer["paging"] = {"next": {"after": str(end - since)}}
            return self.answer(answer)
        if path.endswith("/companies/search"):
            # Companies 0 … changed-1 were renamed after the full read (their modification time is past every deal's).
            body = json.loads(raw)
            start = int(body.get("after", 0))
            end = min(changed, start + 100)
            answer = {"total": changed, "results": [{"id": str(n), "properties": {"hs_lastmodifieddate": str(total + n)}} for n in range(start, end)]}
            if end < changed:
                answer["paging"] = {"next": {"after": str(end)}}
            return self.answer(answer)
        if path.endswith("/associations/companies/deals/batch/read"):
            ids = [i["id"] for i in json.loads(raw)["inputs"]]
            return self.answer({"status": "COMPLETE", "results": [{"from": {"id": i}, "to": [{"toObjectId": i, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 6}]}]} for i in ids]})
        if path.endswith("/deals/batch/read"):
            return self.answer({"status": "COMPLETE", "results": [deal(int(i["id"])) for i in json.loads(raw)["inputs"]]})
        if path.endswith("/associations/deals/companies/batch/read"):
            ids = [i["id"] for i in json.loads(raw)["inputs"]]
            return self.answer({"status": "COMPLETE", "results": [{"from": {"id": i}, "to": [{"toObjectId": int(i)}]} for i in ids]})
        if path.endswith("/companies/batch/read"):
            ids = [int(i["id"]) for i in json.loads(raw)["inputs"]]
            return self.answer({"status": "COMPLETE", "results": [{"id": str(n), "properties": {
                "name": f"Bench{n:07d} {words[n % 10]} {words[(n // 10) % 10]} Inc.", "domain": f"bench{n}.example", "country": "US",
                "hs_lastmodifieddate": str(n)}} for n in ids]})
        self.answer({"access_token": "bench-token", "instance_url": "http://127.0.0.1", "token_type": "Bearer", "expires_in": 3599})

    def do_GET(self):
        parsed = urlparse(self.path)
        path = parsed.path
        if path.endswith("/api/data/v9.2/transactioncurrencies"):
            return self.answer({"value": [{"transactioncurrencyid": "eur", "isocurrencycode": "EUR"}]})
        if path.endswith("/api/data/v9.2/accounts"):
            query = unquote(parsed.query)
            if "$filter" in query:
                # Accounts by their ids (Microsoft.Dynamics.CRM.In): account n has the id of opportunity n.
                ids = [int(i.rsplit("-", 1)[1]) for i in re.findall(r"'([0-9a-f-]{36})'", query)]
                return self.answer({"value": [{"accountid": f"00000000-0000-0000-0000-{n:012d}",
                                               "name": f"Bench{n:07d} {words[n % 10]} {words[(n // 10) % 10]} SA",
                                               "websiteurl": f"https://bench{n}.example", "address1_country": "FR"} for n in ids]})
            # The accounts' change tracking: the first read only takes the delta link; since, accounts 0 … changed-1 were renamed.
            if "$deltatoken" in query:
                return self.answer({"value": [{"accountid": f"00000000-0000-0000-0000-{n:012d}", "name": f"Renamed{n:07d} SA"} for n in range(changed)],
                                    "@odata.deltaLink": self.base() + path + "?$deltatoken=accounts-2"})
            return self.answer({"value": [], "@odata.deltaLink": self.base() + path + "?$deltatoken=accounts"})
        if path.endswith("/api/data/v9.2/opportunities") and "$filter" in parsed.query:
            # The opportunities of changed accounts (Microsoft.Dynamics.CRM.In over parentaccountid): opportunity n is account n's.
            ids = [int(i.rsplit("-", 1)[1]) for i in re.findall(r"'([0-9a-f-]{36})'", unquote(parsed.query))]
            return self.answer({"value": [dataverse_row(n) for n in ids]})
        if path.endswith("/api/data/v9.2/opportunities"):
            query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
            if "$deltatoken" in query:
                return self.answer({"value": [], "@odata.deltaLink": self.base() + path + "?$deltatoken=done"})
            start = int(query.get("$skiptoken", 0))
            end = min(total, start + 5000)
            rows = [dataverse_row(n) for n in range(start, end)]
            answer = {"value": rows}
            if end < total:
                answer["@odata.nextLink"] = self.base() + path + f"?$skiptoken={end}"
            else:
                answer["@odata.deltaLink"] = self.base() + path + "?$deltatoken=first"
            return self.answer(answer)
        if path.endswith("/crm/v3/objects/deals"):
            return self.answer({"results": []})
        q = unquote(parsed.query)
        if "Account.SystemModstamp >=" in q:
            # The account query: accounts 0 … changed-1 were renamed after the full read.
            return self.answer({"totalSize": changed, "done": True, "records": [record(n) for n in range(changed)]})
        if "SystemModstamp >=" in q:
            return self.answer({"totalSize": 0, "done": True, "records": []})  # no opportunity changed since the full read
        start = int(path.rsplit("-", 1)[1]) if "/query/bench-" in path else 0
        end = min(total, start + page_size)
        body = {"totalSize": total, "done": end >= total, "records": [record(n) for n in range(start, end)]}
        if end < total:
            body["nextRecordsUrl"] = f"/services/data/v62.0/query/bench-{end}"
        self.answer(body)

    def base(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
print(server.server_address[1], flush=True)
server.serve_forever()
