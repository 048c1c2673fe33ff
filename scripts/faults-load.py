#!/usr/bin/env python3
"""Load generator and checker for scripts/faults (standard library only).

  faults-load.py setup  --base URL --password PW --db URL --state FILE
  faults-load.py run    --base URL --password PW --state FILE --out DIR --stop FILE [--writers 16]
  faults-load.py probe  --base URL --password PW --state FILE --seconds N --out FILE
  faults-load.py check  --base URL --password PW --db URL --state FILE --out DIR --summary FILE

`run` starts the writers: each logs in as a demo user who may write and sends POSTs, each with a
unique Idempotency-Key and a unique body, and now and then a PATCH with If-Match. On a
connection error, a timeout, a 503, a 429 or a 409 idempotency-in-progress it sends the same
request again (same key, same bytes) until it gets a definitive answer, as a careful client
does; every attempt is recorded (DIR/writer-N.jsonl). It stops when FILE exists, after finishing
the request in hand.

`probe` measures the outage: during N seconds it sends requests one after another (a read, a
POST) with a 15 s client timeout and records how long each took to be answered and what.

`check` compares the records with the database (psql) and answers with JSON figures.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta

CLIENT_TIMEOUT = 30.0  # generous: the machine is shared; a hang shows as a timeout anyway
PROBE_TIMEOUT = 15.0
RETRYABLE_409 = "idempotency-in-progress"
PSQL = os.environ.get("PSQL", "/usr/lib/postgresql/15/bin/psql")


class Answer:
    def __init__(self, status, headers, body, elapsed, error=None):
        self.status, self.headers, self.body, self.elapsed, self.error = (
            status, headers, body, elapsed, error)

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def problem_code(self):
        j = self.json()
        if isinstance(j, dict) and isinstance(j.get("type"), str):
            return j["type"].rsplit(":", 1)[-1]
        return None


def http(base, method, path, body=None, headers=None, timeout=CLIENT_TIMEOUT, form=False):
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        if isinstance(body, bytes):
            data = body
        elif form:
            data = urllib.parse.urlencode(body).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body, sort_keys=True).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(base + path, data=data, method=method, headers=hdrs)
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Answer(r.status, dict(r.headers), r.read(), time.monotonic() - t0)
    except urllib.error.HTTPError as e:
        try:
            b = e.read()
        except Exception:  # noqa: BLE001 - a cut connection while reading the error body
            b = b""
        return Answer(e.code, dict(e.headers), b, time.monotonic() - t0)
    except Exception as e:  # noqa: BLE001 - connection refused/reset, timeout, ...
        return Answer(None, {}, b"", time.monotonic() - t0, error=f"{type(e).__name__}: {e}")


def hget(headers, name):
    for k, v in headers.items():
        if k.lower() == name.lower():
            return v
    return None


def psql(db, sql):
    out = subprocess.run([PSQL, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", db],
                         input=sql, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line != ""]


class Session:
    """A logged-in demo user; logs in again on 401 and waits out outages."""

    def __init__(self, base, username, password, stop=None):
        self.base, self.username, self.password, self.stop = base, username, password, stop
        self.token = None

    def login(self):
        while True:
            a = http(self.base, "POST", "/api/v1/auth/token", form=True, body={
                "grant_type": "password", "username": self.username, "password": self.password})
            if a.status == 200:
                self.token = a.json()["access_token"]
                return
            if a.status is not None and a.status not in (429, 500, 502, 503, 504):
                raise RuntimeError(f"login {self.username}: {a.status} {a.body[:300]!r}")
            time.sleep(0.5)

    def call(self, method, path, body=None, headers=None, timeout=CLIENT_TIMEOUT):
        if self.token is None:
            self.login()
        h = dict(headers or {})
        h["Authorization"] = f"Bearer {self.token}"
        a = http(self.base, method, path, body=body, headers=h, timeout=timeout)
        if a.status == 401:
            self.login()
            h["Authorization"] = f"Bearer {self.token}"
            a = http(self.base, method, path, body=body, headers=h, timeout=timeout)
        return a


def retryable(a):
    if a.status is None or a.status in (429, 502, 503, 504, 500):
        return True
    return a.status == 409 and a.problem_code() == RETRYABLE_409


def send(session, rec, method, path, body_bytes, headers):
    """Sends one request until a definitive answer; records each attempt in rec."""
    rec.update(method=method, path=path, attempts=[])
    while True:
        a = session.call(method, path, body=body_bytes, headers=headers)
        rec["attempts"].append({
            "t": time.time(), "status": a.status, "elapsed": round(a.elapsed, 3),
            "error": a.error, "code": a.problem_code() if a.status and a.status >= 400 else None,
            "replayed": hget(a.headers, "Idempotency-Replayed") == "true",
            "content_type": hget(a.headers, "Content-Type"),
        })
        if not retryable(a):
            rec["status"] = a.status
            rec["code"] = a.problem_code() if a.status >= 400 else None
            rec["location"] = hget(a.headers, "Location")
            rec["etag"] = hget(a.headers, "ETag")
            j = a.json()
            rec["replayed"] = hget(a.headers, "Idempotency-Replayed") == "true"
            if isinstance(j, dict) and "id" in j:
                rec["id"] = j["id"]
            elif rec["location"]:
                rec["id"] = rec["location"].rstrip("/").rsplit("/", 1)[-1]
            return a
        # 409 in progress: the lease (30 s) must lapse first; others: the outage must end.
        time.sleep(2.0 if a.status == 409 else (0.3 + random.random() * 0.4))


def child_body(marker, unit_id):
    dob = date.today() - timedelta(days=15 * 365 + random.randint(0, 300))
    return {
        "given_name": "Fault",
        "family_name": marker,  # unique per Idempotency-Key: two children with it = a duplicate
        "date_of_birth": dob.isoformat(),
        "sex": random.choice(["female", "male", "unknown"]),
        "asylum_status": "asylum_seeker",
        "languages": ["dari"],
        "responsible_unit_id": unit_id,
    }


def writer(n, args, state, stop):
    role = state["roles"][n % len(state["roles"])]
    user = role["user"]
    s = Session(args.base, user, args.password)
    s.login()
    out = open(os.path.join(args.out, f"writer-{n:02d}.jsonl"), "a", buffering=1)
    mine = []  # children (id, etag, placed) this writer created and may change
    seq = 0

    def record(rec):
        out.write(json.dumps(rec) + "\n")

    while not os.path.exists(args.stop):
        seq += 1
        r = random.random()
        rec = {"writer": n, "user": user, "seq": seq}
        if role["kind"] == "secretary":
            unplaced = [c for c in mine if not c["placed"]]
            if mine and r < 0.2:
                c = random.choice(mine)
                marker = f"P{n:02d}-{seq}-{uuid.uuid4().hex[:8]}"
                body = json.dumps({"country_of_origin": marker}).encode()
                rec.update(op="patch_child", child_id=c["id"], marker=marker)
                a = send(s, rec, "PATCH", f"/api/v1/children/{c['id']}", body,
                         {"If-Match": c["etag"]})
                if a.status == 200:
                    c["etag"] = hget(a.headers, "ETag")
                elif a.status in (409, 412):
                    g = s.call("GET", f"/api/v1/children/{c['id']}")
                    while g.status != 200:
                        time.sleep(0.5)
                        g = s.call("GET", f"/api/v1/children/{c['id']}")
                    c["etag"] = hget(g.headers, "ETag")
            elif unplaced and role.get("facility_id") and r < 0.35:
                c = random.choice(unplaced)
                key = str(uuid.uuid4())
                start = date.today()
                body = json.dumps({
                    "facility_id": role["facility_id"], "start_date": start.isoformat(),
                    "planned_end": (start + timedelta(days=random.randint(5, 60))).isoformat(),
                    "legal_basis": state["legal_basis"], "decision_reference": f"FLTP-{key}",
                }, sort_keys=True).encode()
                rec.update(op="create_placement", key=key, child_id=c["id"])
                a = send(s, rec, "POST", f"/api/v1/children/{c['id']}/placements", body,
                         {"Idempotency-Key": key})
                c["placed"] = True  # placed, refused or full: do not try this child again
            else:
                key = str(uuid.uuid4())
                marker = f"FLTC{n:02d}-{key}"
                body = json.dumps(child_body(marker, role["unit_id"]), sort_keys=True).encode()
                rec.update(op="create_child", key=key, marker=marker)
                a = send(s, rec, "POST", "/api/v1/children", body, {"Idempotency-Key": key})
                if a.status == 201 and rec.get("id"):
                    etag = rec.get("etag")
                    if rec.get("replayed") or not etag:
                        g = s.call("GET", f"/api/v1/children/{rec['id']}")
                        while g.status != 200:
                            time.sleep(0.5)
                            g = s.call("GET", f"/api/v1/children/{rec['id']}")
                        etag = hget(g.headers, "ETag")
                    mine.append({"id": rec["id"], "etag": etag, "placed": False})
        else:  # unit manager: facilities
            key = str(uuid.uuid4())
            marker = f"FLTF{n:02d}-{key}"
            body = json.dumps({"kind": random.choice(["hvb", "supported_housing"]),
                               "name": marker, "unit_id": role["unit_id"],
                               "capacity": random.randint(1, 20)}, sort_keys=True).encode()
            rec.update(op="create_facility", key=key, marker=marker)
            send(s, rec, "POST", "/api/v1/facilities", body, {"Idempotency-Key": key})
        # keep the original body so the checker can resend exactly the same bytes
        if rec.get("op", "").startswith("create"):
            rec["body"] = body.decode()
        record(rec)
    out.close()


def cmd_setup(args):
    units = dict((name, uid) for name, uid in psql(args.db, "SELECT name, id FROM units"))
    north = next(v for k, v in units.items() if "North" in k)
    south = next(v for k, v in units.items() if "South" in k)
    maria = Session(args.base, "maria", args.password)
    a = maria.call("POST", "/api/v1/facilities", body={
        "kind": "hvb", "name": f"Faults HVB {uuid.uuid4().hex[:6]}", "unit_id": north,
        "capacity": 6}, headers={"Idempotency-Key": str(uuid.uuid4())})
    if a.status != 201:
        sys.exit(f"setup: creating the contested facility: {a.status} {a.body[:300]!r}")
    facility = a.json()["id"]
    today = date.today().isoformat()
    legal = "SoL2025-insats" if today >= "2025-07-01" else "SoL-4-1"
    roles = []
    for i in range(16):
        # 6 x anna (children, patches, placements into the contested home), 6 x omar, 4 x maria
        k = i % 8
        if k in (0, 1, 2):
            roles.append({"user": "anna", "kind": "secretary", "unit_id": north,
                          "facility_id": facility})
        elif k in (3, 4, 5):
            roles.append({"user": "omar", "kind": "secretary", "unit_id": south})
        else:
            roles.append({"user": "maria", "kind": "manager", "unit_id": north})
    json.dump({"roles": roles, "facility_id": facility, "legal_basis": legal,
               "north": north, "south": south}, open(args.state, "w"))
    print(f"contested facility {facility} (capacity 6)")


def cmd_run(args):
    state = json.load(open(args.state))
    os.makedirs(args.out, exist_ok=True)
    stop = threading.Event()
    errors = []

    def guarded(t):
        try:
            t()
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
            raise
    threads = [threading.Thread(target=guarded, args=(lambda n=n: writer(n, args, state, stop),))
               for n in range(args.writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("writer failed: " + "; ".join(errors))


def cmd_probe(args):
    """During an outage: every request must be answered 503 problem+json within 5 s."""
    state = json.load(open(args.state))
    s = Session(args.base, "anna", args.password)
    s.token = open(args.token).read().strip() if args.token and os.path.exists(args.token) else None
    if s.token is None:
        sys.exit("probe: no token")
    results = []
    end = time.monotonic() + args.seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        if i % 3 == 0:
            path, method, body, hdr = "/health/ready", "GET", None, {}
        elif i % 3 == 1:
            path, method, body, hdr = "/api/v1/children", "GET", None, {}
        else:
            key = str(uuid.uuid4())
            path, method = "/api/v1/children", "POST"
            body = json.dumps(child_body(f"Probe-{key}", state["north"])).encode()
            hdr = {"Idempotency-Key": key}
        h = dict(hdr)
        h["Authorization"] = f"Bearer {s.token}"
        a = http(args.base, method, path, body=body, headers=h, timeout=PROBE_TIMEOUT)
        results.append({"method": method, "path": path, "status": a.status,
                        "elapsed": round(a.elapsed, 3), "error": a.error,
                        "content_type": hget(a.headers, "Content-Type"),
                        "code": a.problem_code(),
                        "key": hdr.get("Idempotency-Key"), "body": body.decode() if body else None})
        time.sleep(0.2)
    json.dump(results, open(args.out, "w"))
    ok = [r for r in results if r["status"] == 503
          and (r["content_type"] or "").startswith("application/problem+json")
          and r["elapsed"] <= 5.0]
    mx = max((r["elapsed"] for r in results), default=0)
    print(json.dumps({"probes": len(results), "ok_503_within_5s": len(ok), "max_s": mx,
                      "statuses": sorted({str(r["status"]) for r in results})}))


def cmd_token(args):
    s = Session(args.base, "anna", args.password)
    s.login()
    print(s.token)


def load_records(out):
    recs = []
    for f in sorted(os.listdir(out)):
        if f.startswith("writer-") and f.endswith(".jsonl"):
            for line in open(os.path.join(out, f)):
                if line.strip():
                    recs.append(json.loads(line))
    return recs


def cmd_check(args):
    recs = load_records(args.out)
    db = args.db
    fig = {"requests": len(recs), "attempts": sum(len(r["attempts"]) for r in recs)}
    fig["by_op"] = {}
    for r in recs:
        d = fig["by_op"].setdefault(r["op"], {})
        d[str(r.get("status"))] = d.get(str(r.get("status")), 0) + 1
    fig["retried_requests"] = sum(1 for r in recs if len(r["attempts"]) > 1)
    fig["replayed_answers"] = sum(1 for r in recs if r.get("replayed"))
    fig["answers_500"] = sum(1 for r in recs for a in r["attempts"] if a["status"] == 500)
    acked = [r for r in recs if r.get("status") and 200 <= r["status"] < 300]
    fig["acknowledged_2xx"] = len(acked)
    problems = []

    table = {"create_child": ("children", "child"), "create_facility": ("facilities", "facility"),
             "create_placement": ("placements", "placement")}
    ids = {t: set() for t, _ in table.values()}
    for r in acked:
        if r["op"] in table:
            if not r.get("id"):
                problems.append(f"2xx without an id: {r['op']} key {r.get('key')}")
                continue
            ids[table[r["op"]][0]].add(r["id"])

    present = 0
    lost = []
    for tname, ent in table.values():
        want = ids[tname]
        if not want:
            continue
        arr = ",".join(f"'{i}'" for i in want)
        rows = psql(db, f"SELECT t.id, (SELECT count(*) FROM audit_events e WHERE e.entity_id = t.id "
                        f"AND e.action = 'create' AND e.outcome = 'success') FROM {tname} t "
                        f"WHERE t.id IN ({arr})")
        found = {row[0]: int(row[1]) for row in rows}
        for i in want:
            if i not in found:
                lost.append(f"{tname} {i} acknowledged but absent")
            elif found[i] < 1:
                lost.append(f"{tname} {i} present without its create event")
            else:
                present += 1
    # patches: each acknowledged one has an update event; the child holds the last acked marker
    # or the marker of a later attempt whose answer was lost (then answered 409 stale-version)
    patch_acked = [r for r in acked if r["op"] == "patch_child"]
    by_child = {}
    for r in recs:
        if r["op"] == "patch_child":
            by_child.setdefault(r["child_id"], []).append(r)
    for cid, rs in by_child.items():
        n_acked = sum(1 for r in rs if r.get("status") == 200)
        if n_acked == 0:
            continue
        (cnt, country), = psql(db, f"SELECT (SELECT count(*) FROM audit_events e WHERE e.entity_id = "
                                    f"'{cid}' AND e.action = 'update' AND e.outcome = 'success'), "
                                    f"coalesce((SELECT country_of_origin FROM children WHERE id = '{cid}'), '')")
        if int(cnt) < n_acked:
            lost.append(f"child {cid}: {n_acked} acknowledged patches, {cnt} update events")
        rs.sort(key=lambda r: (r["writer"], r["seq"]))
        last = max(i for i, r in enumerate(rs) if r.get("status") == 200)
        allowed = {r["marker"] for r in rs[last:]}
        if country not in allowed:
            lost.append(f"child {cid}: holds {country!r}, last acknowledged patch set "
                        f"{rs[last]['marker']!r}")
        elif int(cnt) >= n_acked:
            present += n_acked
    fig["verified_present"] = present
    fig["acknowledged_patches"] = len(patch_acked)
    fig["lost"] = len(lost)
    fig["lost_detail"] = lost[:50]

    # half-done: a row of personal data without its create event; capacity never exceeded
    half = psql(db, "SELECT 'child ' || c.id FROM children c WHERE NOT EXISTS (SELECT 1 FROM "
                    "audit_events e WHERE e.entity_id = c.id AND e.action = 'create' AND "
                    "e.outcome = 'success') AND c.family_name LIKE 'FLTC%' "
                    "UNION ALL SELECT 'placement ' || p.id FROM placements p WHERE NOT EXISTS ("
                    "SELECT 1 FROM audit_events e WHERE e.entity_id = p.id AND e.action = 'create' "
                    "AND e.outcome = 'success') AND p.decision_reference LIKE 'FLTP%' "
                    "UNION ALL SELECT 'facility ' || f.id FROM facilities f WHERE NOT EXISTS ("
                    "SELECT 1 FROM audit_events e WHERE e.entity_id = f.id AND e.action = 'create' "
                    "AND e.outcome = 'success') AND f.name LIKE 'FLTF%' "
                    "UNION ALL SELECT 'row whose last_audit_event_id names no event ' || x.id FROM ("
                    "SELECT id, last_audit_event_id FROM children UNION ALL SELECT id, "
                    "last_audit_event_id FROM placements UNION ALL SELECT id, last_audit_event_id "
                    "FROM facilities) x WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE "
                    "e.id = x.last_audit_event_id)")
    over = psql(db, "SELECT f.id, d::date, count(p.id), f.capacity FROM facilities f "
                    "JOIN placements p ON p.facility_id = f.id AND p.cancelled_at IS NULL "
                    "CROSS JOIN LATERAL generate_series(p.start_date, coalesce(p.end_date, "
                    "p.planned_end), interval '1 day') d GROUP BY f.id, d, f.capacity "
                    "HAVING count(p.id) > f.capacity")
    fig["half_done"] = len(half) + len(over)
    fig["half_done_detail"] = [r[0] for r in half][:20] + [
        f"facility {r[0]} on {r[1]}: {r[2]} placed, capacity {r[3]}" for r in over][:20]
    (placed_contested,), = psql(db, f"SELECT count(*) FROM placements WHERE facility_id = "
                                    f"'{json.load(open(args.state))['facility_id']}' AND "
                                    f"cancelled_at IS NULL")
    fig["contested_home_placements"] = int(placed_contested)

    # a re-run the database refused: the first run committed, a retry ran the work again and
    # hit the unique constraint or the overlap (answered 409 instead of the first answer)
    rerun = [r for r in recs if r.get("status") == 409 and r.get("code") in (
        "name-taken", "placement-overlap", "duplicate-identity") and len(r["attempts"]) > 1]
    fig["reruns_refused_409"] = len(rerun)
    fig["rerun_detail"] = [f"{r['op']} key {r['key']} -> {r['code']}" for r in rerun][:20]

    # what the writers got while PostgreSQL was down (windows written by scripts/faults)
    wpath = os.path.join(args.out, "outages.txt")
    during = []
    if os.path.exists(wpath):
        wins = [tuple(map(float, l.split())) for l in open(wpath) if l.strip()]
        for r in recs:
            for a in r["attempts"]:
                start = a["t"] - a["elapsed"]
                if any(w0 <= start <= w1 for w0, w1 in wins):
                    during.append(a)
    fig["writer_attempts_during_outage"] = len(during)
    fig["writer_outage_statuses"] = {}
    for a in during:
        k = str(a["status"] or a["error"].split(":")[0])
        fig["writer_outage_statuses"][k] = fig["writer_outage_statuses"].get(k, 0) + 1
    fig["writer_outage_max_s"] = max((a["elapsed"] for a in during), default=0)
    fig["writer_outage_503_not_problem_json"] = sum(
        1 for a in during if a["status"] == 503
        and not (a["content_type"] or "").startswith("application/problem+json"))

    # stuck keys: claimed, unfinished, lease lapsed (measured before anything is resent)
    # (a claim its work marked done is not stuck: a retry is answered from the work)
    stuck_rows = psql(db, "SELECT key FROM idempotency_keys WHERE status IS NULL AND "
                          "work_txid IS NULL AND (claimed_until IS NULL OR claimed_until < now())")
    done_rows = psql(db, "SELECT key FROM idempotency_keys WHERE status IS NULL AND "
                         "work_txid IS NOT NULL")
    done_keys = {row[0] for row in done_rows}
    fig["answers_lost_after_commit"] = len(done_keys)
    (claimed,), = psql(db, "SELECT count(*) FROM idempotency_keys WHERE status IS NULL")
    stuck_keys = {row[0] for row in stuck_rows}
    fig["stuck_keys_sql"] = len(stuck_keys)
    fig["unfinished_claims"] = int(claimed)
    # a stuck claim whose request the client saw answered 2xx: the answer came from a run that
    # stored no outcome (the claim was never taken over), so a retry would run the work again
    acked_keys = {r["key"] for r in acked if r.get("key")}
    fig["stuck_keys_answered_2xx"] = len(stuck_keys & acked_keys)
    status_of_key = dict(psql(db, "SELECT key, coalesce(status::text, 'NULL') FROM idempotency_keys"))

    (dup_before,), = psql(db, "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM children "
                              "WHERE family_name LIKE 'FLTC%' GROUP BY family_name UNION ALL SELECT "
                              "count(*) FROM facilities WHERE name LIKE 'FLTF%' GROUP BY name UNION ALL "
                              "SELECT count(*) FROM placements WHERE decision_reference LIKE 'FLTP%' "
                              "GROUP BY decision_reference) x")
    fig["duplicates_before_resend"] = int(dup_before)

    # every key that never got a 2xx: resend it (same user, key, bytes); it must be definitive
    sessions = {}
    never = [r for r in recs if r.get("key") and not (r.get("status") and 200 <= r["status"] < 300)]
    # the probes' POSTs (answered 503 during an outage) must get a definitive answer too
    for f in sorted(os.listdir(args.out)):
        if f.startswith("probe-") and f.endswith(".json"):
            for p in json.load(open(os.path.join(args.out, f))):
                if p.get("key") and not (p.get("status") and 200 <= p["status"] < 300):
                    never.append({"user": "anna", "op": "probe_child", "path": p["path"],
                                  "key": p["key"], "body": p["body"]})
    # ... and every stuck key, whatever the writer saw: its retry must be definitive too
    never += [r for r in recs if r.get("key") in stuck_keys and r not in never]
    # ... and every key whose work committed but whose answer was never stored: its retry must
    # be a replay (2xx), never a second run
    never += [r for r in recs if r.get("key") in done_keys and r not in never]
    recovered = []
    undefinitive = []
    retry_status = {}
    for r in never:
        s = sessions.setdefault(r["user"], Session(args.base, r["user"], args.password))
        a = s.call("POST", r["path"], body=r["body"].encode(), headers={"Idempotency-Key": r["key"]})
        t0 = time.monotonic()
        # in progress, throttled or unavailable: wait (at most 60 s), then it must be definitive
        while retryable(a) and time.monotonic() - t0 < 60:
            time.sleep(float(hget(a.headers, "Retry-After") or 1) if a.status == 429 else 1)
            a = s.call("POST", r["path"], body=r["body"].encode(), headers={"Idempotency-Key": r["key"]})
        retry_status[str(a.status)] = retry_status.get(str(a.status), 0) + 1
        if r.get("key") in done_keys:
            recovered.append(a.status if hget(a.headers, "Idempotency-Replayed") else -a.status)
        if retryable(a):
            undefinitive.append(f"{r['op']} key {r['key']}: {a.status} {a.problem_code()}")
    fig["recovered_replays"] = sum(1 for st in recovered if 200 <= st < 300)
    fig["recovered_not_replayed"] = [st for st in recovered if not 200 <= st < 300]
    fig["never_2xx_keys_retried"] = len(never)
    fig["never_2xx_retry_statuses"] = retry_status
    (after,), = psql(db, "SELECT count(*) FROM idempotency_keys WHERE status IS NULL AND "
                         "(claimed_until IS NULL OR claimed_until < now())")
    # (now counting marked claims too: every one of them must have been answered)
    fig["stuck_keys_after_resend"] = int(after)
    fig["undefinitive_resends"] = len(undefinitive)
    # stuck: a key whose retry cannot get a definitive answer, or that is still claimed by no
    # live request after the resends. A lapsed claim before them is free for a retry to take
    # over (that is what the lease is for): counted above, not a failure by itself.
    fig["stuck_keys"] = len(undefinitive) + int(after)
    fig["stuck_detail"] = undefinitive[:20]
    # duplicates (counted after the resends above): one Idempotency-Key, one body marker, more than one row
    dup = psql(db, "SELECT 'child', family_name, count(*) FROM children WHERE family_name LIKE 'FLTC%' "
                   "GROUP BY family_name HAVING count(*) > 1 UNION ALL SELECT 'facility', name, count(*) "
                   "FROM facilities WHERE name LIKE 'FLTF%' GROUP BY name HAVING count(*) > 1 "
                   "UNION ALL SELECT 'placement', decision_reference, count(*) FROM placements "
                   "WHERE decision_reference LIKE 'FLTP%' GROUP BY decision_reference HAVING count(*) > 1")
    fig["duplicates"] = sum(int(r[2]) - 1 for r in dup)
    by_marker = {r.get("marker") or "": r for r in recs}
    detail = []
    cause = {"retry took the lapsed claim over and ran again": 0,
             "idempotency bypassed: the retry's answer stored no outcome": 0, "other": 0}
    for kind, marker, n in dup:
        r = by_marker.get(marker) or next((x for x in recs if x.get("key") and x["key"] in marker), None)
        seen = [a["error"].split(":")[0] if a["error"] else a["status"] for a in (r or {}).get("attempts", [])]
        key = marker.split("-", 1)[1]
        st = status_of_key.get(key)
        c = ("idempotency bypassed: the retry's answer stored no outcome" if st == "NULL" or
             key in stuck_keys else
             "retry took the lapsed claim over and ran again" if st else "other")
        c = c if st != "NULL" else c
        if key in stuck_keys:
            seen.append("stuck")
        cause[c] += int(n) - 1
        detail.append(f"{kind} {marker} x{n}: {c}; key status {st}; attempts {seen}")
    fig["duplicate_causes"] = cause
    fig["duplicate_detail"] = detail[:20]

    fig["problems"] = problems[:20]
    json.dump(fig, open(args.summary, "w"), indent=1)
    print(json.dumps(fig, indent=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["setup", "run", "probe", "check", "token"])
    p.add_argument("--base", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--db")
    p.add_argument("--state")
    p.add_argument("--out")
    p.add_argument("--stop")
    p.add_argument("--token")
    p.add_argument("--summary")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--writers", type=int, default=16)
    args = p.parse_args()
    {"setup": cmd_setup, "run": cmd_run, "probe": cmd_probe, "check": cmd_check,
     "token": cmd_token}[args.cmd](args)


if __name__ == "__main__":
    main()
