# Compares what the naughty-strings publisher sent (JSON lines) with the rows PostgreSQL
# holds for dev-naughty: prints "mismatches=N missing=N extra_rows=N" (all zero is a pass).
import json
import sys

import psycopg2

sent = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
conn = psycopg2.connect(sys.argv[2])
cur = conn.cursor()
cur.execute("SELECT seq, note FROM std_fault_test WHERE device_id = 'dev-naughty'")
rows = {}
extra = 0
for seq, note in cur.fetchall():
    if seq in rows:
        extra += 1
    rows[seq] = note
cur.execute("SELECT count(*) FROM std_fault_test WHERE device_id <> 'dev-naughty' AND device_id LIKE '%naughty%'")
extra += cur.fetchone()[0]
missing = sum(1 for s in sent if s["seq"] not in rows)
mismatch = sum(1 for s in sent if s["seq"] in rows and rows[s["seq"]] != s["note"])
extra += len(rows) - (len(sent) - missing)
print(f"sent={len(sent)} mismatches={mismatch} missing={missing} extra_rows={extra}")
