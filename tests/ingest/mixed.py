# Builds a stream of COUNT messages across every shipped source from the reviewed examples
# in tests/examples/<source>/ (topic, payload, expected records or reject reason), and
# writes what the database must then hold. Usage:
#   mixed.py plan CITYLINK SCHEMAS COUNT BAD PLAN_DIR   -> PLAN_DIR/{messages,expected}
#   mixed.py publish PORT PLAN_DIR                      -> every message at QoS 1, MQTT 5
#   mixed.py check CONNINFO PLAN_DIR                    -> "PASS what" / "FAIL what: why"
#
# An accepted example becomes many distinct messages by giving each copy its own device
# ids: every device id of its expected records is replaced, in the topic and the payload,
# by id + "-" + a tag unique to (example, copy). One copy per example is checked with
# `citylink normalize` first: an example whose device id cannot be varied that way (it is
# derived, not copied) is sent once. The oracle for the counts is therefore the reviewed
# .out/.err files, not the code under test.
#
# PLAN_DIR/tables holds "<std_table> <rows>" lines; PLAN_DIR/rejects one JSON object per
# refused payload: topic, payload (hex) and the text its stored reason must contain.
import json
import os
import subprocess
import sys
import time

RECEIVED = "2026-11-21T00:00:00Z"


def load_cases(root="tests/examples"):
    cases = []
    for source in sorted(os.listdir(root)):
        d = os.path.join(root, source)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith(".topic"):
                continue
            base = os.path.join(d, f[: -len(".topic")])
            if os.path.exists(base + ".corpus"):
                with open(base + ".corpus") as c:
                    payload_file = os.path.join("tests/corpus", c.read().strip())
            else:
                payload_file = base + ".payload"
            case = {"name": base, "topic": open(base + ".topic").read().strip(),
                    "payload": open(payload_file, "rb").read()}
            if os.path.exists(base + ".out"):
                case["records"] = [json.loads(l) for l in open(base + ".out") if l.strip()]
            else:
                case["reason"] = open(base + ".err").read().strip()
            cases.append(case)
    return cases


def vary(case, tag):
    """The case with each device id d replaced by d-tag; (topic, payload, records)."""
    topic, payload = case["topic"], case["payload"]
    records = [dict(r) for r in case["records"]]
    for dev in sorted({r["device"] for r in records}, key=len, reverse=True):
        new = dev + "-" + tag
        topic = topic.replace(dev, new)
        payload = payload.replace(dev.encode(), new.encode())
        for r in records:
            if r["device"] == dev:
                r["device"] = new
    return topic, payload, records


def normalize(citylink, schemas, topic, payload):
    p = subprocess.run([citylink, "normalize", "--schemas", schemas, "--topic", topic,
                        "--received", RECEIVED, "-"], input=payload, capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def variable(citylink, schemas, case):
    """True if copies of the case normalize to the same records with the new device ids."""
    topic, payload, records = vary(case, "zz0")
    if topic == case["topic"] and payload == case["payload"]:
        return False
    rc, out, _ = normalize(citylink, schemas, topic, payload)
    got = [json.loads(l) for l in out.splitlines() if l.strip()]
    return rc == 0 and [(r["standard"], r["device"]) for r in got] == \
        [(r["standard"], r["device"]) for r in records]


def table(standard):
    return "std_" + standard.replace("-", "_")


def tag(i, k):
    return "%sx%s" % (base36(i), base36(k))


def base36(n):
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + s
        if n == 0:
            return s


def bad_messages(citylink, schemas, case, count):
    """COUNT distinct payloads that are not JSON on an accepted json case's topic, and the
    reason each gets (computed once per payload length, the only thing it depends on)."""
    msgs, reasons = [], {}
    for k in range(count):
        payload = b'{"broken": %d, ' % k
        if len(payload) not in reasons:
            rc, _, err = normalize(citylink, schemas, case["topic"], payload)
            if rc != 1:
                sys.exit("mixed.py: %r on %s was not refused" % (payload, case["topic"]))
            reasons[len(payload)] = err.strip().removeprefix("reject: ")
        msgs.append((case["topic"], payload, reasons[len(payload)]))
    return msgs


def plan(citylink, schemas, count, bad, out_dir):
    cases = load_cases()
    ok = [c for c in cases if "records" in c]
    rejects = [c for c in cases if "reason" in c]
    varied = [c for c in ok if variable(citylink, schemas, c)]
    fixed = [c for c in ok if c not in varied]
    if not varied:
        sys.exit("mixed.py: no example could be varied")
    messages, rows, refused = [], {}, []

    def accept(topic, payload, records):
        messages.append((topic, payload))
        for r in records:
            rows[table(r["standard"])] = rows.get(table(r["standard"]), 0) + 1

    for c in fixed:
        accept(c["topic"], c["payload"], c["records"])
    json_case = next(c for c in varied if c["payload"].lstrip().startswith(b"{"))
    for topic, payload, reason in [(c["topic"], c["payload"], c["reason"]) for c in rejects] + \
            bad_messages(citylink, schemas, json_case, bad):
        messages.append((topic, payload))
        refused.append({"topic": topic, "payload": payload.hex(), "reason": reason})
    k = 0
    while len(messages) < count:
        i = k % len(varied)
        accept(*vary(varied[i], tag(i, k // len(varied))))
        k += 1

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "messages"), "w") as f:
        for topic, payload in messages:
            f.write("%s %s\n" % (topic, payload.hex()))
    with open(os.path.join(out_dir, "tables"), "w") as f:
        for t in sorted(rows):
            f.write("%s %d\n" % (t, rows[t]))
    with open(os.path.join(out_dir, "rejects"), "w") as f:
        for r in refused:
            f.write(json.dumps(r) + "\n")
    print("planned %d messages: %d examples varied, %d sent once, %d reject examples, %d bad"
          % (len(messages), len(varied), len(fixed), len(rejects), bad))


def publish(port, plan_dir):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(client_id="mixed-%d" % time.time_ns(), protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = []
    t0 = time.time()
    deadline = time.time() + 120
    with open(os.path.join(plan_dir, "messages")) as f:
        for i, line in enumerate(f):
            # paho reuses message ids after 65535: keep fewer than that outstanding.
            while i >= 30000 and not infos[i - 30000].is_published() and time.time() < deadline:
                time.sleep(0.01)
            topic, hexed = line.split(" ")
            infos.append(c.publish(topic, bytes.fromhex(hexed.strip()), qos=1))
    for info in infos:
        while not info.is_published() and time.time() < deadline:
            time.sleep(0.01)
    c.loop_stop()
    missing = sum(1 for info in infos if not info.is_published())
    print("published %d/%d in %.2f s" % (len(infos) - missing, len(infos), time.time() - t0))
    return 1 if missing else 0


def check(conninfo, plan_dir):
    """Exact rows per table; each refused payload stored once with its reason, and no
    other reject. Returns the number of failed checks."""
    import psycopg2

    db = psycopg2.connect(conninfo)
    cur = db.cursor()
    failed = 0

    def report(ok, what, why=""):
        nonlocal failed
        failed += 0 if ok else 1
        print("PASS %s" % what if ok else "FAIL %s: %s" % (what, why))

    for line in open(os.path.join(plan_dir, "tables")):
        t, want = line.split()
        cur.execute("SELECT count(*), count(DISTINCT (device_id, time)) FROM " + t)
        rows, distinct = cur.fetchone()
        report(rows == int(want) and distinct == rows, "rows in %s" % t,
               "%d rows (%d distinct), want %s" % (rows, distinct, want))
    cur.execute("SELECT topic, encode(payload, 'hex'), reason, count FROM rejects")
    stored = {(t, p): (reason, n) for t, p, reason, n in cur.fetchall()}
    want = {}
    for line in open(os.path.join(plan_dir, "rejects")):
        r = json.loads(line)
        want.setdefault((r["topic"], r["payload"]), []).append(r["reason"])
    wrong = []
    for key, texts in want.items():
        got = stored.get(key)
        if got is None or got[1] != len(texts) or any(t not in got[0] for t in texts):
            wrong.append("%s %s: stored %r, want %d x %r" % (key[0], bytes.fromhex(key[1])[:60],
                                                               got, len(texts), texts[0]))
    report(not wrong, "%d refused payloads stored once each with their reason" % len(want),
           "; ".join(wrong[:3]) + (" (+%d more)" % (len(wrong) - 3) if len(wrong) > 3 else ""))
    extra = [k for k in stored if k not in want]
    report(not extra, "no other rejects",
           "; ".join("%s %s: %s" % (k[0], bytes.fromhex(k[1])[:60], stored[k][0])
                     for k in extra[:3]))
    return failed


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "plan":
        plan(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif len(sys.argv) == 4 and sys.argv[1] == "publish":
        sys.exit(publish(int(sys.argv[2]), sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(1 if check(sys.argv[2], sys.argv[3]) else 0)
    else:
        sys.exit(__doc__ if __doc__ else "usage: mixed.py plan|publish ...")
