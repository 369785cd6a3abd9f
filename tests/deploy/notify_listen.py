#!/usr/bin/python3
"""A stand-in for systemd's notification socket: binds an AF_UNIX datagram socket at
PATH and writes each message it receives to OUT as "<seconds since start> <line>", one
line per newline-separated assignment, until SIGTERM.

  notify_listen.py PATH OUT"""
import os
import signal
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    start = time.monotonic()
    with open(out, "w", buffering=1) as f:
        # Ready for senders once this line is there.
        f.write("0.000 LISTENING\n")
        while True:
            data = sock.recv(65536)
            t = time.monotonic() - start
            for line in data.decode("utf-8", "replace").split("\n"):
                if line:
                    f.write("%.3f %s\n" % (t, line))


if __name__ == "__main__":
    try:
        main()
    finally:
        if os.path.exists(sys.argv[1]):
            os.unlink(sys.argv[1])
