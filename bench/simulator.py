"""A stand-in for Graph's send endpoint on the loopback, for benchmarks only.

POST /<version>/<phone-number-id>/messages answers like the Cloud API after `--latency-ms`: 200 with
a fresh wamid, or, for a share of requests given by `--error-rate`, 400 with error 131030 (the
recipient is not on the test number's allowed list). Every request is handled in its own thread,
so concurrent sends overlap as they would against Meta. With `--log FILE` it writes one line per
message it received, as it arrives: the time (seconds since the epoch), the number, and the
callback id the message carried (the tests of the Celery workers count them; `-` is stdout).

    python bench/simulator.py --port 9100 --latency-ms 100 --error-rate 0 [--log FILE]
                              [--slow 201000300000:8000]
"""
import argparse
import itertools
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_counter = itertools.count(1)
_lock = threading.Lock()
_log = None


class GraphHandler(BaseHTTPRequestHandler):
    latency = 0.1
    error_rate = 0.0
    slow: dict[str, float] = {}  # number (digits) → seconds: phones that answer slowly
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's pooled session expects
    # Headers and body leave in one segment, with Nagle off: written separately, the body waited
    # for the client's delayed ACK (40 ms on Linux), which Graph does not add to a send.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith("/messages") or "Bearer " not in self.headers.get("Authorization", ""):
            return self._answer(404, {"error": {"message": "Unknown path", "code": 100}})
        if _log is not None:
            line = f"{time.time():.6f} {payload.get('to', '')} {payload.get('biz_opaque_callback_data', '')}\n"
            with _lock:
                _log.write(line)
                _log.flush()
        # The simulated network and Graph time (longer for a slow phone's number).
        time.sleep(self.slow.get(str(payload.get("to", "")).lstrip("+"), self.latency))
        if random.random() < self.error_rate:
            return self._answer(400, {"error": {
                "message": "(#131030) Recipient phone number not in allowed list",
                "type": "OAuthException", "code": 131030, "fbtrace_id": "BenchTrace"}})
        with _lock:
            number = next(_counter)
        to = str(payload.get("to", ""))
        self._answer(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": f"wamid.BENCH{number:012d}"}],
        })

    def _answer(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # quiet: thousands of requests per run
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--log", default="")
    parser.add_argument("--slow", action="append", default=[], metavar="NUMBER:MS",
                        help="a number whose messages take MS milliseconds instead")
    args = parser.parse_args()
    GraphHandler.slow = {number.lstrip("+"): float(ms) / 1000
                         for number, ms in (item.split(":") for item in args.slow)}
    global _log
    if args.log:
        _log = sys.stdout if args.log == "-" else open(args.log, "a", encoding="utf-8")
    GraphHandler.latency = args.latency_ms / 1000
    GraphHandler.error_rate = args.error_rate
    server = ThreadingHTTPServer(("127.0.0.1", args.port), GraphHandler)
    server.daemon_threads = True
    server.request_queue_size = 128
    print(f"Graph simulator on 127.0.0.1:{args.port}, {args.latency_ms:g} ms, "
          f"error rate {args.error_rate:g}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
