# Publishes COUNT fault-test messages (seq START.., device dev-NNNNN = seq % DEVICES, time
# 2026-11-21T09:10:00Z + seq seconds) to city/ft/<device> at QoS 1, MQTT 5, keeping up to
# 1000 in flight, and exits 0 only when every PUBACK came back. A broker that goes away
# mid-run is waited for (reconnect) when --patient is given.
# Usage: publish.py PORT COUNT START [--rate MSGS_PER_S] [--patient] [--topic PREFIX]
import argparse
import sys
import time

import paho.mqtt.client as mqtt

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("count", type=int)
ap.add_argument("start", type=int)
ap.add_argument("--rate", type=float, default=0)
ap.add_argument("--devices", type=int, default=50)
ap.add_argument("--patient", action="store_true")
ap.add_argument("--topic", default="city/ft")
a = ap.parse_args()

c = mqtt.Client(client_id=f"pub-{a.start}-{time.time_ns()}", protocol=mqtt.MQTTv5)
c.max_inflight_messages_set(1000)
c.max_queued_messages_set(0)
c.connect("127.0.0.1", a.port)
c.loop_start()
infos = []
t0 = time.time()
for i in range(a.count):
    seq = a.start + i
    payload = '{"ts":%d,"seq":%d,"v":1.5}' % (1795252200000 + seq * 1000, seq)
    infos.append(c.publish("%s/dev-%05d" % (a.topic, seq % a.devices), payload, qos=1))
    if a.rate and i % 100 == 99:
        ahead = (i + 1) / a.rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
deadline = time.time() + (300 if a.patient else 60)
for info in infos:
    while not info.is_published() and time.time() < deadline:
        time.sleep(0.01)
c.loop_stop()
missing = sum(1 for info in infos if not info.is_published())
print(f"published {a.count - missing}/{a.count} in {time.time() - t0:.2f} s")
sys.exit(1 if missing else 0)
