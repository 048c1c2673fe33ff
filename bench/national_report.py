#!/usr/bin/env python3
"""Helpers of bench/national.sh (standard library only).

  national_report.py plans <server log> <offset> <database> <scale>   # JSON line: the probe's plans
  national_report.py report <records.jsonl>                    # the Markdown section
"""

import json
import re
import sys

SCENARIOS = {
    "worklist": ("a", "secretary's worklist", "GET /api/v1/me/worklist", "read"),
    "child_read": ("b", "secretary opens a child (audited read)", "GET /api/v1/children/{id}", "read"),
    "visit": ("c", "secretary logs a visit", "POST /api/v1/children/{id}/visits", "write"),
    "register": ("d", "secretary registers a child", "POST /api/v1/children", "write"),
    "capacity": ("e", "unit manager: capacity, 90-day forecast", "GET /api/v1/reports/capacity?days=90", "read"),
    "service_placements": ("f", "system lists a child's placements", "GET /api/v1/children/{id}/placements", "read"),
    "placement": ("g", "placement into a nearly full home", "POST /api/v1/children/{id}/placements", "write"),
    "audit_by_child": ("h", "auditor: one child's log over a year", "GET /api/v1/audit-events?child_id&from&to", "read"),
}

# Statements of the service's background tasks (the sequencer's passes, the checkpoint task),
# which run between the probe's requests and are not part of them.
BACKGROUND = re.compile(
    r'FROM "audit_queue"|DELETE FROM audit_queue|pg_advisory_xact_lock|INSERT INTO "audit_chain"'
    r'|FROM "audit_chain" ORDER BY "audit_chain"\."position" DESC|FROM audit_queue'
    # the foreign-key check of the chain's inserts
    r'|FROM ONLY "public"\."audit_events" x WHERE "seq" OPERATOR'
)
MESSAGE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \S+ \[\d+\] ")


def plans(log_path, offset, database, scale):
    with open(log_path, "rb") as log:
        log.seek(int(offset))
        text = log.read().decode("utf-8", "replace")
    messages, current = [], None
    for line in text.splitlines():
        if MESSAGE.match(line):
            current = [line]
            messages.append(current)
        elif current is not None:
            current.append(line)
    probes, probe = [], None
    for lines in messages:
        head = lines[0]
        marker = re.search(r"LOG:  trygg-bench-probe: (\w+)", head)
        if marker:
            if marker.group(1) == "end":
                probe = None
            else:
                probe = {"name": marker.group(1), "statements": []}
                probes.append(probe)
            continue
        if probe is None or f"@{database} " not in head:
            continue
        found = re.search(r"duration: ([\d.]+) ms\s+plan:", head)
        if not found:
            continue
        body = [l[1:] if l.startswith("\t") else l for l in lines[1:]]
        # The query runs from "Query Text:" to the plan's first node, the first line with costs.
        query_lines, plan_lines = [], []
        for l in body:
            if plan_lines or "(cost=" in l:
                plan_lines.append(l)
            elif l.startswith("Query Text:"):
                query_lines.append(l[len("Query Text:"):].strip())
            else:
                query_lines.append(l.strip())
        query = " ".join(query_lines)
        # The pool's check on every checkout (`SELECT 1`) runs for background tasks too; it is
        # counted apart rather than listed.
        if query == "SELECT 1":
            probe["pool_checks"] = probe.get("pool_checks", 0) + 1
            continue
        if BACKGROUND.search(query):
            continue
        probe["statements"].append(
            {"duration_ms": float(found.group(1)), "query": query, "plan": "\n".join(plan_lines).rstrip()}
        )
    print(json.dumps({"type": "plans", "scale": scale, "probes": probes}))


def fmt(value, digits=0):
    if value is None:
        return "–"
    if digits == 0:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:,.{digits}f}".replace(",", " ")


def report(path):
    records = [json.loads(line) for line in open(path) if line.strip()]
    machine = next(r for r in records if r["type"] == "machine")
    end = next((r for r in records if r["type"] == "end"), {})
    pgbench = {(r["mode"], r["clients"]): r for r in records if r["type"] == "pgbench"}
    seeds = {r["scale"]: r for r in records if r["type"] == "seed"}
    services = {r["scale"]: r for r in records if r["type"] == "service"}
    runs = [r for r in records if r["type"] == "scenario"]
    by = {(r["scale"], r["scenario"], r["clients"]): r for r in runs}
    probes = {r["scale"]: r for r in records if r["type"] == "plans"}
    clients = sorted({r["clients"] for r in runs} | {k[1] for k in pgbench})
    scales = [s for s in ("national", "tenth") if s in seeds]
    out = []
    w = out.append

    w("<!-- bench/national.sh: start (generated; everything up to the end marker is replaced on each run) -->")
    w("## National scale (`bench/national.sh`)")
    w("")
    w("| machine | |")
    w("|---|---|")
    w(f"| date (UTC) | {machine['started']} to {end.get('ended', '?')} |")
    w(f"| CPU | {machine['cpu']} |")
    w(f"| memory | {machine['memory']} |")
    w(f"| OS | {machine['os']} |")
    w(f"| PostgreSQL | {machine['postgres']} ({machine['settings']}), on the same machine |")
    w(f"| load average before / after | {machine['load_before']} / {end.get('load_after', '?')} |")
    w(f"| also running (start / end) | {machine.get('others') or 'nothing seen'} / {end.get('others') or 'nothing seen'} |")
    w(f"| build | `cargo build --release`, {machine['rustc']}; `trygg serve --dev`, 2 actix workers (one per core), pool of {machine['pool_size']} connections, rate limits off |")
    w(f"| load | {machine['wrk']} (`-t2 -c N -d{machine['seconds']}s --latency --timeout 30s`), on the same machine; each scenario alone, {machine['clients']} connections |")
    w("")

    w("### Data")
    w("")
    w("Seeded through the database (`bench/seed.sql`), not the API, then `VACUUM ANALYZE`.")
    w("")
    w("| | " + " | ".join(scales) + " |")
    w("|---|" + "---:|" * len(scales))
    for key, label in [
        ("children", "children"), ("units", "units"), ("facilities", "facilities (HVB homes and supported housing)"),
        ("secretaries", "social secretaries (about 30 children each)"), ("users", "users in all"),
        ("placements", "placements"), ("schedules", "contact schedules"), ("visits", "visits (three years)"),
        ("reviews", "placement decisions"), ("events", "audit events (three years)"),
        ("events_mb", "`audit_events` with indexes, MB"), ("database_mb", "database, MB"),
    ]:
        w(f"| {label} | " + " | ".join(fmt(seeds[s]["counts"][key]) for s in scales) + " |")
    w("| seed / VACUUM ANALYZE, s | " + " | ".join(f"{seeds[s]['seed_s']:.0f} / {seeds[s]['vacuum_s']:.0f}" for s in scales) + " |")
    w("")
    w("Every unit has HVB homes and a supported housing; one HVB home is left two places from full "
      "for scenario (g). One child in a hundred waits for a place; three in ten of the others moved "
      "on from an HVB home to supported housing. Each placed child has the two contact schedules a "
      "placement starts with, weekly staff contacts and quarterly follow-up visits since arrival, "
      "reconsiderations every six months (one child in twenty is behind) and the decisions about care "
      "after 18. Every seeded row has its audit event, and reads by secretaries, managers and home staff "
      "fill the log to its size. The seeded history is chained in `audit_chain` (positions, links of "
      "each hash to the one before) so that the sequencer carries on from its end, but its hashes are "
      "not computed from the events: **the seeded history is not a verifiable chain**; only the events "
      "written during the run are.")
    w("")

    w("### pgbench on the same server (the yardstick)")
    w("")
    w("Scale 10, `-j 2`, same duration; `-S` select-only, `-N` simple update (three statements and a commit a transaction).")
    w("")
    w("| clients | `-S` tps | `-N` tps | `-S` latency | `-N` latency |")
    w("|---:|---:|---:|---:|---:|")
    capped = []
    for n in clients:
        s, u = pgbench.get(("S", n)), pgbench.get(("N", n))
        if not s or not u:
            continue
        note = ""
        if s["used"] != n:
            note = f" (ran with {s['used']})"
            capped.append((n, s["used"]))
        w(f"| {n}{note} | {fmt(s['tps'])} | {fmt(u['tps'])} | {s['latency_ms']:.2f} ms | {u['latency_ms']:.2f} ms |")
    w("")
    for n, used in capped:
        w(f"pgbench needs a connection per client: at {n} it ran with {used}, what the server's "
          f"`max_connections` left free; the service at {n} connections uses its pool of {machine['pool_size']}.")
        w("")

    def ratio(scale, scenario, n):
        run = by.get((scale, scenario, n))
        mode = "S" if SCENARIOS[scenario][3] == "read" else "N"
        base = pgbench.get((mode, n))
        if not run or not base or not base["tps"]:
            return None, mode
        return run["wrk"]["rps"] / base["tps"], mode

    for scale in scales:
        service = services.get(scale, {})
        w(f"### Scenarios at {'national scale' if scale == 'national' else 'a tenth of it'}")
        w("")
        if scale == scales[0]:
            w("Each scenario alone, several bearer tokens (people logged in just before it), requests "
              "drawn at random from its rows: (a) 8 secretaries; (b) their children; (c) placed "
              "children of 8 other secretaries; (d) 8 more secretaries, each registering in her unit a "
              "child never seen before; (e) 8 unit managers; (f) a service account (`placements:read`, "
              "8 sessions) over 2,000 children without protected identity; (g) the secretaries of "
              "waiting children placing them, from today, into the home with two free places; (h) an "
              "auditor (8 sessions) over 2,000 children, `from` a year ago `to` now.")
            w("")
            w("Throughput against pgbench at the same client count: reads against `-S`, writes against `-N`. "
              "*Unexpected*: answers other than the scenario's expected statuses, and socket errors. "
              "*Lag*: the longest an event written during the run waited between being queued and being sealed "
              "into the chain (`audit_chain.sealed_at - queued_at`); *backlog*: the most events `/health/ready` "
              "reported unsealed while the run went on. Memory: the service's peak resident set (VmHWM) after the run.")
            w("")
        w("| scenario | conns | req/s | × pgbench | p50 | p99 | unexpected | answers | lag max | backlog peak | VmHWM |")
        w("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
        for scenario, (letter, label, _, kind) in SCENARIOS.items():
            for n in clients:
                run = by.get((scale, scenario, n))
                if not run:
                    continue
                r, mode = ratio(scale, scenario, n)
                wr = run["wrk"]
                answers = ", ".join(f"{k}: {fmt(v)}" for k, v in sorted(wr["answers"].items()))
                unexpected = wr["unexpected"] + wr["socket_errors"]
                w(f"| ({letter}) {label} | {n} | {fmt(wr['rps'])} | {'–' if r is None else f'{r:.3f} × -{mode}'} | "
                  f"{wr['p50_ms']:.1f} ms | {wr['p99_ms']:.1f} ms | {'**' + str(unexpected) + '**' if unexpected else 0} | "
                  f"{answers} | {run['lag']['max_s']:.3f} s | {fmt(run['backlog']['events'])} | {run['vmhwm_kb'] / 1024:.0f} MB |")
        w("")
        cpu_rows = [(scenario, n, by.get((scale, scenario, n))) for scenario in SCENARIOS for n in clients]
        cpu_rows = [(sc, n, run) for sc, n, run in cpu_rows if run and run.get("cpu") and run["wrk"]["requests"]]
        if cpu_rows:
            w("Where the CPU went: CPU time per request of the service (all its threads), of PostgreSQL "
              "(every server process) and of the rest (wrk, the kernel's interrupts, anything else), "
              "from `/proc` before and after each run, and how busy the machine's cores were. With "
              "every core busy, throughput is the cores divided by the total.")
            w("")
            w("| scenario | conns | service | PostgreSQL | rest | total | cores busy | ceiling at that cost |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|")
            for scenario, n, run in cpu_rows:
                c, req = run["cpu"], run["wrk"]["requests"]
                rest = max(c["busy_s"] - c["service_s"] - c["postgres_s"], 0)
                per = lambda v: f"{v * 1000 / req:.2f} ms"
                total = c["busy_s"] * 1000 / req
                busy = c["busy_s"] / (c["cores"] * c["seconds"]) * 100
                w(f"| ({SCENARIOS[scenario][0]}) {SCENARIOS[scenario][1]} | {n} | {per(c['service_s'])} | "
                  f"{per(c['postgres_s'])} | {per(rest)} | {total:.2f} ms | {busy:.0f} % | "
                  f"{fmt(round(c['cores'] * 1000 / total)) if total else '–'} req/s |")
            w("")
        if service:
            w(f"Peak memory of the service over the whole scale: {service['vmhwm_kb'] / 1024:.0f} MB. "
              f"Placements made in the nearly full home by (g): {service.get('placed_in_full_home', '?')} "
              "(two places were free; every other attempt was refused 409).")
            w("")

    # Targets -------------------------------------------------------------------------------------
    w("### Targets")
    w("")
    if "national" not in scales:
        w("No national-scale run: targets not assessed.")
    else:
        rows = []

        def throughput_target(scenario, mode, factor, n=64):
            run, base = by.get(("national", scenario, n)), pgbench.get((mode, n))
            if not run or not base:
                return None
            need = factor * base["tps"]
            have = run["wrk"]["rps"]
            letter, label = SCENARIOS[scenario][:2]
            verdict = (f"met ({have / need:.1f} × the target)" if have >= need
                       else f"**missed**: {have / need * 100:.0f} % of the target, {fmt(need - have)} req/s short")
            rows.append((f"({letter}) {label} ≥ {factor} × pgbench -{mode} at {n}",
                         f"{fmt(have)} req/s vs {fmt(need)} ({factor} × {fmt(base['tps'])})", verdict))

        for scenario in ("child_read", "service_placements", "audit_by_child", "visit", "register", "placement"):
            throughput_target(scenario, "N", 0.5)
        throughput_target("child_read", "S", 0.2)
        for scenario in ("capacity", "worklist"):
            throughput_target(scenario, "S", 0.3)
        for scenario, (letter, label, _, _) in SCENARIOS.items():
            run = by.get(("national", scenario, 64))
            if not run:
                continue
            p99 = run["wrk"]["p99_ms"]
            verdict = (f"met ({25 - p99:.1f} ms to spare)" if p99 < 25
                       else f"**missed** by {p99 - 25:.1f} ms ({p99 / 25:.1f} × the limit)")
            rows.append((f"({letter}) p99 < 25 ms at 64", f"{p99:.1f} ms", verdict))
        if "tenth" in scales:
            for scenario, (letter, label, _, _) in SCENARIOS.items():
                big, small = by.get(("national", scenario, 64)), by.get(("tenth", scenario, 64))
                if not big or not small:
                    continue
                slower = 1 - big["wrk"]["rps"] / small["wrk"]["rps"]
                verdict = "met" if slower <= 0.2 else f"**missed**: {slower * 100:.0f} % slower (limit 20 %)"
                rows.append((f"({letter}) national no more than 20 % slower than a tenth, at 64",
                             f"{fmt(big['wrk']['rps'])} vs {fmt(small['wrk']['rps'])} req/s ({-slower * 100:+.0f} %)", verdict))
        top = max(clients)
        lags = [(r["lag"]["max_s"], r["scenario"]) for r in runs if r["scale"] == "national" and r["clients"] == top]
        if lags:
            lag, scenario = max(lags)
            verdict = f"met ({1 - lag:.2f} s to spare)" if lag < 1 else f"**missed** by {lag - 1:.2f} s ({lag:.1f} × the limit)"
            rows.append((f"sequencer lag < 1 s at the highest load ({top} connections)",
                         f"{lag:.3f} s at most (in ({SCENARIOS[scenario][0]}))", verdict))
        w("Audited reads are (b), (f) and (h), audited writes (c), (d) and (g); every request of every "
          "scenario writes audit events. (g) counts its 409 answers as throughput: they are the expected "
          "outcome once the home is full.")
        w("")
        w("| target | measured (national) | |")
        w("|---|---|---|")
        for target, measured, verdict in rows:
            w(f"| {target} | {measured} | {verdict} |")
    w("")

    # Plans -----------------------------------------------------------------------------------------
    for scale in scales:
        w(f"### Plans of each scenario's request ({'national scale' if scale == 'national' else 'a tenth'})")
        w("")
        probe_set = probes.get(scale)
        if not probe_set or not probe_set["probes"]:
            w("Not recorded (the server log was not readable).")
            w("")
            continue
        w("Every statement of one warm request of each scenario, as the service ran it after the "
          "scenarios, logged by `auto_explain` (ANALYZE, BUFFERS, triggers, nested statements); the "
          "sequencer's and checkpointer's statements in between are left out. Times include "
          "`auto_explain`'s own overhead; the commit (a WAL flush) is not a statement and not shown.")
        w("")
        for probe in probe_set["probes"]:
            statements = probe["statements"]
            total = sum(s["duration_ms"] for s in statements)
            checks = probe.get("pool_checks", 0)
            letter = SCENARIOS.get(probe["name"], ("?",))[0]
            w(f"#### ({letter}) {probe['name']}: {len(statements)} statements, {total:.2f} ms in the database")
            w("")
            w(f"Besides {checks} `SELECT 1` checks of pooled connections (some of them the background tasks').")
            w("")
            w("| ms | statement |")
            w("|---:|---|")
            for s in statements:
                query = s["query"].replace("|", "\\|")
                if len(query) > 160:
                    query = query[:157] + "…"
                w(f"| {s['duration_ms']:.3f} | `{query}` |")
            w("")
            slowest = sorted(statements, key=lambda s: -s["duration_ms"])[:2]
            w("<details><summary>plans of the slowest statements</summary>")
            w("")
            for s in slowest:
                w("```")
                w(s["query"])
                w("")
                w(s["plan"])
                w("```")
                w("")
            w("</details>")
            w("")
    w("<!-- bench/national.sh: end -->")
    print("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "plans":
        plans(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)
