#!/usr/bin/env python3
"""A loopback HTTP proxy in front of a registry, for the push tests.

  registry_proxy.py UPSTREAM_PORT PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE), forwards every
request to 127.0.0.1:UPSTREAM_PORT and counts what clients send: the body
bytes of blob uploads (requests under /blobs/uploads/), independent of what
the client reports. Faults are injected on request:

  POST /_proxy/faults  body: a JSON list served to the next requests in
                       order, each "503", "429", "500" (that status with a
                       registry-style error body) or "drop" (the connection
                       closed without an answer); or the string "down"
                       (every request answered 503 until the next POST)
  GET  /_proxy/stats   {"blob_bytes": N, "blob_bytes_served": N,
                        "requests": N, "faults_served": N,
                        "log": ["METHOD PATH", ...] (the last 1000)}
"""
import http.client
import http.server
import json
import socket
import sys
import threading

UPSTREAM = int(sys.argv[1])
LOCK = threading.Lock()
STATE = {"blob_bytes": 0, "blob_bytes_served": 0, "requests": 0,
         "faults_served": 0, "log": []}
FAULTS = []
DOWN = [False]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection",
       "te", "trailer", "upgrade"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, body):
        if self.command == "POST" and self.path == "/_proxy/faults":
            spec = json.loads(body)
            with LOCK:
                DOWN[0] = spec == "down"
                FAULTS[:] = [] if DOWN[0] else list(spec)
            return self.answer(204, b"")
        if self.path == "/_proxy/stats":
            with LOCK:
                data = json.dumps(STATE).encode()
            return self.answer(200, data, [("Content-Type", "application/json")])
        return self.answer(404, b"")

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/_proxy/"):
            return self.control(body)
        with LOCK:
            STATE["requests"] += 1
            STATE["log"] = STATE["log"][-999:] + [self.command + " " + self.path]
            fault = "503" if DOWN[0] else (FAULTS.pop(0) if FAULTS else None)
            if fault:
                STATE["faults_served"] += 1
        if fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault:
            err = json.dumps({"errors": [{"code": "UNAVAILABLE",
                                          "message": "injected " + fault}]})
            return self.answer(int(fault), err.encode(),
                               [("Content-Type", "application/json")])
        if "/blobs/uploads/" in self.path and self.command in ("PATCH", "PUT", "POST"):
            with LOCK:
                STATE["blob_bytes"] += len(body)
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
            self.end_headers()
            return
        if "/blobs/sha256:" in self.path and resp.status == 200:
            with LOCK:
                STATE["blob_bytes_served"] += len(data)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    server.serve_forever()


if __name__ == "__main__":
    main()
