#!/usr/bin/python3
"""MQTT 5 probe for the broker tests: connects with the given account (optionally over
TLS) and prints one line saying what the broker did.

  probe.py [CONN] connect                      -> "connected" | "refused <reason>" | "error tls|<what>"
  probe.py [CONN] publish TOPIC                -> "puback <reason code>"
  probe.py [CONN] route FILTER --pub-user U --pub-password P TOPIC
        subscribes FILTER with CONN, publishes TOPIC (QoS 1) as U, waits, and prints
        "suback <code> puback <code> received <n>"
  probe.py [CONN] --client-id ID session FILTER     leaves a persistent MQTT 5 session
        (expiry 1 h) subscribed to FILTER at QoS 1 -> "session"
  probe.py [CONN] flood TOPIC N                -> "acked <n>" once N QoS 1 publishes are acked
  probe.py [CONN] --client-id ID drain         resumes the session, counts what it delivers
        until 2 s pass without a message -> "received <n>"
CONN: --port P [--ws] [--user U --password PW] [--ca CA [--cert C --key K] [--tls-max 1.1]]

paho-mqtt 1.6 parses but drops the PUBACK reason code (on_publish gets only the mid), so
Client below records it from the packet before paho handles it."""
import argparse
import ssl
import sys
import threading
import time
import warnings

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

WAIT = 1.0
# TLS 1.0/1.1 are deprecated: the probe uses them on purpose, to see them refused.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Client(mqtt.Client):
    def __init__(self, cid, transport):
        super().__init__(client_id=cid, protocol=mqtt.MQTTv5, transport=transport)
        self.puback = {}

    def _handle_pubackcomp(self, cmd):
        pkt = self._in_packet["packet"]
        mid = int.from_bytes(pkt[:2], "big")
        # MQTT 5: a PUBACK without a reason code byte means 0 (success).
        self.puback[mid] = pkt[2] if self._in_packet["remaining_length"] > 2 else 0
        return super()._handle_pubackcomp(cmd)


def make(args, user, password, cid):
    c = Client(cid, "websockets" if args.ws else "tcp")
    c.persistent = args.action in ("session", "drain")
    if user:
        c.username_pw_set(user, password)
    if args.ca:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(args.ca)
        if args.tls_max == "1.1":
            # Willing to speak TLS 1.1 ourselves, so a refusal is the broker's.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key)
        c.tls_set_context(ctx)
    return c


def connect(args, user, password, cid):
    return connect_with(make(args, user, password, cid), args)


def connect_with(c, args):
    done = threading.Event()
    result = {}

    def on_connect(client, userdata, flags, rc, props=None):
        result["rc"] = rc
        done.set()

    def on_disconnect(client, userdata, rc, props=None):
        result.setdefault("rc", rc)
        done.set()

    c.on_connect = on_connect
    c.on_disconnect = on_disconnect
    # The handshake and CONNACK are read here, not in paho's thread: under TLS 1.3 a
    # missing client certificate is only reported (as an alert) after the handshake.
    deadline = time.time() + 5
    props = None
    if getattr(c, "persistent", False):
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
    try:
        c.connect("127.0.0.1", args.port, keepalive=10, clean_start=not c.persistent,
                  properties=props)
        while not done.is_set() and time.time() < deadline:
            c.loop(0.1)
    except ssl.SSLError:
        return None, "error tls"
    except OSError as e:
        return None, "error %s" % type(e).__name__
    if not done.is_set():
        return None, "error timeout"
    rc = result["rc"]
    if getattr(rc, "value", rc) != 0:
        return None, "refused %s" % (getattr(rc, "value", rc))
    c.loop_start()
    return c, "connected"


def publish(c, topic):
    info = c.publish(topic, b'{"probe":1}', qos=1)
    deadline = time.time() + 5
    while info.mid not in c.puback and time.time() < deadline:
        time.sleep(0.01)
    return c.puback.get(info.mid, "none")


def session(args):
    c, line = connect(args, args.user, args.password, args.client_id)
    if c is None:
        return line
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.subscribe(args.rest[0], qos=1)
    done.wait(5)
    c.disconnect()
    c.loop_stop()
    return "session"


def flood(args):
    c, line = connect(args, args.user, args.password, "probe-flood")
    if c is None:
        return line
    n = int(args.rest[1])
    mids = [c.publish(args.rest[0], b"%d" % i, qos=1).mid for i in range(n)]
    deadline = time.time() + 60
    while sum(1 for m in mids if c.puback.get(m) in (0, 16)) < n and time.time() < deadline:
        time.sleep(0.05)
    c.disconnect()
    return "acked %d" % sum(1 for m in mids if c.puback.get(m) in (0, 16))


def drain(args):
    got = []
    c = make(args, args.user, args.password, args.client_id)
    c.on_message = lambda client, userdata, msg: got.append(msg.payload)
    c2, line = connect_with(c, args)
    if c2 is None:
        return line
    last = -1
    while last != len(got):
        last = len(got)
        time.sleep(2)
    c.disconnect()
    return "received %d" % len(set(got))


def route(args):
    got = []
    sub, line = connect(args, args.user, args.password, "probe-sub")
    if sub is None:
        return line
    granted = threading.Event()
    codes = []

    def on_subscribe(client, userdata, mid, rcs, props=None):
        codes.extend(getattr(r, "value", r) for r in rcs)
        granted.set()

    sub.on_subscribe = on_subscribe
    sub.on_message = lambda client, userdata, msg: got.append(msg.topic)
    sub.subscribe(args.filter, qos=1)
    granted.wait(5)
    pub, line = connect(args, args.pub_user, args.pub_password, "probe-pub")
    if pub is None:
        return "publisher " + line
    ack = publish(pub, args.topic)
    time.sleep(WAIT)
    pub.disconnect()
    sub.disconnect()
    return "suback %s puback %s received %d" % (",".join(map(str, codes)), ack, len(got))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--tls-max")
    p.add_argument("--ws", action="store_true", help="MQTT over websockets")
    p.add_argument("--pub-user")
    p.add_argument("--pub-password")
    p.add_argument("--client-id")
    p.add_argument("action", choices=["connect", "publish", "route", "session", "flood", "drain"])
    p.add_argument("rest", nargs="*")
    args = p.parse_intermixed_args()
    if args.action == "connect":
        c, line = connect(args, args.user, args.password, args.user or "probe")
        if c is not None:
            c.disconnect()
    elif args.action == "publish":
        c, line = connect(args, args.user, args.password, args.user or "probe")
        if c is not None:
            line = "puback %s" % publish(c, args.rest[0])
            c.disconnect()
    elif args.action == "route":
        args.filter, args.topic = args.rest
        line = route(args)
    else:
        line = {"session": session, "flood": flood, "drain": drain}[args.action](args)
    print(line)


if __name__ == "__main__":
    sys.exit(main())
