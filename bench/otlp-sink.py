#!/usr/bin/env python3
"""An OTLP/HTTP sink for benchmarks: answers every POST with 200 and an empty protobuf body (a valid
Export*ServiceResponse), discards what it was sent, and counts requests and bytes per path.

Usage: bench/otlp-sink.py PORT   (SIGTERM or Ctrl-C prints the counts)
"""
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
        requests, size = counts.get(self.path, (0, 0))
        counts[self.path] = (requests + 1, size + length)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def report(*_):
    for path, (requests, size) in sorted(counts.items()):
        print(f"sink {path} requests={requests} bytes={size}", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, report)
    signal.signal(signal.SIGINT, report)
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
