#!/usr/bin/python3
"""Latency probe for bench/alerts_bench.sh: publishes COUNT probes at RATE per second and
measures, per probe, the time until the message it causes arrives.

  chain     publishes city/bench-level/probe {"level": 100|0, "seq": N, "ts": ms}; the
            ingest republishes it on std/, citylink-alerts raises or clears a situation,
            and the staff notice (values.seq == N) on staff/crew/notices ends the probe.
  ingest    the same probes, ended by the ingest's std/bench-level/probe record: the
            ingest's share of the chain.
  baseline  publishes {"seq": N} on bench/echo and subscribes to it: the plain broker
            round trip, the floor under the chain.

Prints "p50_ms p99_ms received sent" on one line."""
import json
import socket
import sys
import threading
import time

import paho.mqtt.client as mqtt


def main():
    port, mode, rate, count = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    sent, lat = {}, []
    done = threading.Event()
    sub_topic = {"chain": "staff/crew/notices", "ingest": "std/bench-level/probe",
                 "baseline": "bench/echo"}[mode]

    def on_message(_c, _u, msg):
        now = time.monotonic()
        body = json.loads(msg.payload)
        seq = body["seq"] if mode == "baseline" else body["values"]["seq"]
        if seq in sent:
            lat.append((now - sent.pop(seq)) * 1000.0)
        if len(lat) >= count:
            done.set()

    c = mqtt.Client(client_id="bench-probe-%s" % mode, protocol=mqtt.MQTTv311)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    # As the broker does (set_tcp_nodelay): otherwise delayed ACKs dominate the figures.
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.subscribe(sub_topic, qos=1)
    c.loop_start()
    time.sleep(0.5)
    start = time.monotonic()
    for i in range(count):
        seq = 1000000 + i
        if mode != "baseline":
            topic = "city/bench-level/probe"
            payload = json.dumps({"level": 100 if i % 2 == 0 else 0, "seq": seq,
                                  "ts": int(time.time() * 1000)})
        else:
            topic, payload = "bench/echo", json.dumps({"seq": seq})
        sent[seq] = time.monotonic()
        c.publish(topic, payload, qos=1)
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    done.wait(30)
    c.loop_stop()
    lat.sort()
    if not lat:
        print("- - 0 %d" % count)
        return 1
    p50 = lat[len(lat) // 2]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print("%.2f %.2f %d %d" % (p50, p99, len(lat), count))
    return 0 if len(lat) == count else 1


if __name__ == "__main__":
    sys.exit(main())
