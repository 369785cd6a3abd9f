# Publishes every string of the big list of naughty strings (tests/corpus/naughty/blns.json)
# in the "note" field of one fault-test message each (device dev-naughty, seq = index), and
# writes the list of (seq, string) sent as JSON lines, for the test to compare with what
# PostgreSQL stored. Usage: naughty.py PORT OUT. Debian's python3-paho-mqtt, MQTT 5, QoS 1.
import json
import sys

import paho.mqtt.client as mqtt

port, out = int(sys.argv[1]), sys.argv[2]
strings = json.load(open("tests/corpus/naughty/blns.json", encoding="utf-8"))
c = mqtt.Client(client_id="naughty-pub", protocol=mqtt.MQTTv5)
c.connect("127.0.0.1", port)
c.loop_start()
sent = []
with open(out, "w", encoding="utf-8") as f:
    for i, s in enumerate(strings):
        if "\u0000" in s:
            continue  # PostgreSQL text cannot hold NUL; the normalizer refuses it (tested there)
        if len(s.encode("utf-8")) > 4000:
            continue  # over the field's max_length
        payload = json.dumps({"ts": 1795252200000 + i * 1000, "seq": i, "v": 0, "note": s})
        c.publish("city/ft/dev-naughty", payload, qos=1).wait_for_publish()
        f.write(json.dumps({"seq": i, "note": s}) + "\n")
c.loop_stop()
c.disconnect()
