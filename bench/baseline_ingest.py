#!/usr/bin/python3
"""The Python baseline that bench/ingest_bench.sh compares citylink-ingest with.

A fair, reasonably written ingestor for one payload shape,

    {"device": "dev-00001", "ts": 1795252200000, "pm25": 17.5, "temp": 21.4, "hum": 40}

built the way a competent team would write it in an afternoon: paho-mqtt 1.6.1 (MQTT 5,
clean start false with a session expiry, so a backlog queues at the broker while it is
down; subscription QoS 1), messages validated on the network thread and handed through a
bounded queue.Queue to one writer thread, which batches them with
psycopg2.extras.execute_values (a batch is flushed at 1000 rows or 100 ms after its first
row, whichever comes first) into

    INSERT INTO baseline_readings ... ON CONFLICT (device_id, time) DO NOTHING

and commits each batch (synchronous_commit left on). A payload that is not JSON, not an
object, or whose fields have the wrong type or are out of range is skipped and counted.

What it does not do, unlike citylink-ingest: paho-mqtt 1.6.1 acknowledges a QoS 1 message
as soon as on_message returns, so a crash can lose what sits in the queue (no spool); no
schema files, one hard-coded mapping; no reject table.

Run it with /usr/bin/python3 (Debian's python3-paho-mqtt and python3-psycopg2). On stderr
it says "subscribed" once the broker acknowledged the subscription, then one summary line
at exit. SIGTERM or SIGINT: stop consuming, flush, commit, exit 0.

    baseline_ingest.py --broker HOST:PORT --dsn DSN [--topic FILTER] [--client-id ID]
                       [--expect N] [--create-session-only]
"""

import argparse
import json
import math
import queue
import signal
import sys
import threading
import time

import paho.mqtt.client as mqtt
import psycopg2
import psycopg2.extras
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

FLUSH_ROWS = 1000
FLUSH_SECONDS = 0.1
QUEUE_ROWS = 20 * FLUSH_ROWS  # full: on_message blocks, the socket fills, the broker holds back
SESSION_EXPIRY_S = 3600

DDL = """
CREATE TABLE IF NOT EXISTS baseline_readings (
    device_id   text NOT NULL,
    time        timestamptz NOT NULL,
    pm25        double precision,
    temperature double precision,
    humidity    double precision,
    received_at timestamptz DEFAULT now(),
    UNIQUE (device_id, time)
)"""

INSERT = """INSERT INTO baseline_readings (device_id, time, pm25, temperature, humidity)
VALUES %s ON CONFLICT (device_id, time) DO NOTHING"""
ROW_TEMPLATE = "(%s, to_timestamp(%s / 1000.0), %s, %s, %s)"

# (payload key, required, min, max), as in bench/schemas/standards/bench-aq.yaml
FIELDS = (("pm25", True, 0.0, 1000.0), ("temp", False, -40.0, 85.0), ("hum", False, 0.0, 100.0))
MAX_TS_MS = 253402300799999  # 9999-12-31T23:59:59.999Z: later would fail the whole batch
STOP = object()


def log(msg):
    print("baseline: " + msg, file=sys.stderr, flush=True)


def failed(reason):
    """Whether an MQTT 5 reason code (paho's ReasonCodes, or an int) is a failure."""
    return getattr(reason, "value", reason) >= 0x80


def number(v):
    """A JSON number as a finite float, else None (bool is an int in Python: not a reading)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def parse(payload):
    """One row (device, ts_ms, pm25, temperature, humidity), or None if the payload is bad."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    device, ts = doc.get("device"), number(doc.get("ts"))
    if not isinstance(device, str) or not device or ts is None or not 0 <= ts <= MAX_TS_MS:
        return None
    row = [device, doc["ts"]]
    for key, required, lo, hi in FIELDS:
        v = doc.get(key)
        f = number(v)
        if v is None and not required:
            row.append(None)
        elif f is not None and lo <= f <= hi:
            row.append(f)
        else:
            return None
    return tuple(row)


class Ingestor:
    def __init__(self, args):
        self.args = args
        self.rows = queue.Queue(maxsize=QUEUE_ROWS)
        self.lock = threading.Lock()
        self.done = threading.Event()  # set when finished (expect reached, stop, or error)
        self.subscribed = threading.Event()
        self.failed = None
        self.first_message = None  # time.monotonic() of the first message
        self.received = self.bad = self.committed = self.batches = 0
        self.client = self.make_client()

    # ---- MQTT (paho's network thread) ----

    def make_client(self):
        c = mqtt.Client(client_id=self.args.client_id, protocol=mqtt.MQTTv5)
        c.on_connect = self.on_connect
        c.on_subscribe = self.on_subscribe
        c.on_message = self.on_message
        c.on_disconnect = self.on_disconnect
        return c

    def connect(self):
        """Opens the connection (CONNACK comes to on_connect); False after fail() if not."""
        host, _, port = self.args.broker.rpartition(":")
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            self.client.connect(host or "127.0.0.1", int(port), keepalive=60, clean_start=False,
                                properties=props)
        except (OSError, ValueError) as e:
            self.fail("connect to %s: %s" % (self.args.broker, e))
            return False
        return True

    def on_connect(self, client, userdata, flags, reason, properties):
        if failed(reason):
            self.fail("connect to %s refused: %s" % (self.args.broker, reason))
            return
        # Subscribing again on a resumed session is harmless and covers a lost session.
        client.subscribe(self.args.topic, qos=1)

    def on_subscribe(self, client, userdata, mid, reasons, properties):
        if any(failed(r) for r in reasons):
            self.fail("subscribe to %s refused: %s" % (self.args.topic, reasons[0]))
            return
        log("subscribed to %s as %s" % (self.args.topic, self.args.client_id))
        self.subscribed.set()

    def on_disconnect(self, client, userdata, reason, properties=None):
        if not self.done.is_set():
            self.fail("connection to %s lost: %s" % (self.args.broker, reason))

    def on_message(self, client, userdata, msg):
        if self.first_message is None:
            self.first_message = time.monotonic()
        self.received += 1
        row = parse(msg.payload)
        if row is None:
            self.bad += 1
            return
        # Blocks while the writer is QUEUE_ROWS behind, unless the writer is gone.
        while not self.failed:
            try:
                self.rows.put(row, timeout=0.5)
                return
            except queue.Full:
                pass

    # ---- PostgreSQL (the writer thread) ----

    def writer(self, db):
        batch, deadline = [], 0.0
        while True:
            timeout = max(0.0, deadline - time.monotonic()) if batch else None
            try:
                row = self.rows.get(timeout=timeout)
            except queue.Empty:
                row = None
            if row is STOP:
                self.flush(db, batch)
                return
            if row is not None:
                if not batch:
                    deadline = time.monotonic() + FLUSH_SECONDS
                batch.append(row)
            if len(batch) >= FLUSH_ROWS or (batch and time.monotonic() >= deadline):
                self.flush(db, batch)
                batch = []

    def flush(self, db, batch):
        if not batch:
            return
        with db.cursor() as cur:
            # One statement per batch (page_size), so rowcount is the rows inserted.
            psycopg2.extras.execute_values(cur, INSERT, batch, template=ROW_TEMPLATE,
                                           page_size=len(batch))
            inserted = cur.rowcount
        db.commit()
        with self.lock:
            self.committed += inserted
            self.batches += 1
            reached = self.args.expect is not None and self.committed >= self.args.expect
        if reached and not self.done.is_set():
            self.report_expect()
            self.done.set()

    def report_expect(self):
        secs = time.monotonic() - (self.first_message or time.monotonic())
        print("committed %d rows in %.3f s (%.0f rows/s) first-message-to-last-commit"
              % (self.committed, secs, self.committed / secs if secs > 0 else 0.0), flush=True)

    def run_writer(self, db):
        try:
            self.writer(db)
        except psycopg2.Error as e:
            self.fail("database: %s" % str(e).strip())

    # ---- control (main thread) ----

    def fail(self, why):
        with self.lock:
            if self.failed is None:
                self.failed = why
        self.done.set()

    def summary(self):
        log("%d messages, %d bad, %d rows committed in %d batches"
            % (self.received, self.bad, self.committed, self.batches))


def open_db(dsn):
    db = psycopg2.connect(dsn)
    with db.cursor() as cur:
        cur.execute(DDL)
    db.commit()
    return db


def create_session(ing):
    """Connects, subscribes (the session now exists and queues), disconnects."""
    if not ing.connect():
        log(ing.failed)
        return 1
    ing.client.loop_start()
    ok = ing.subscribed.wait(30)
    ing.done.set()  # the disconnect below is ours, not a failure
    ing.client.disconnect()
    ing.client.loop_stop()
    if not ok or ing.failed:
        log(ing.failed or "no SUBACK within 30 s")
        return 1
    return 0


def run(ing, db):
    # A daemon thread: whatever goes wrong, it cannot keep the process alive.
    writer = threading.Thread(target=ing.run_writer, args=(db,), name="writer", daemon=True)
    writer.start()
    if ing.connect():
        ing.client.loop_start()
        while not ing.done.wait(0.5):
            pass
        ing.client.disconnect()  # stop consuming first, then store what was taken
        ing.client.loop_stop()
    if writer.is_alive():
        ing.rows.put(STOP)
        writer.join()
    ing.summary()
    if ing.failed:
        log(ing.failed)
        return 1
    return 0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--broker", required=True, help="HOST:PORT")
    p.add_argument("--dsn", required=True, help="libpq connection string")
    p.add_argument("--topic", default="city/bench-aq/+")
    p.add_argument("--client-id", default="baseline-ingest")
    p.add_argument("--expect", type=int, help="exit once N rows are committed")
    p.add_argument("--create-session-only", action="store_true",
                   help="connect, subscribe, disconnect: messages queue until the next run")
    return p.parse_args()


def main():
    args = parse_args()
    ing = Ingestor(args)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: ing.done.set())
    try:
        if args.create_session_only:
            return create_session(ing)
        db = open_db(args.dsn)
    except (OSError, psycopg2.Error) as e:
        log("cannot start: %s" % str(e).strip())
        return 1
    try:
        return run(ing, db)
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
