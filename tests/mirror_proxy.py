#!/usr/bin/env python3
"""A Debian mirror for the --mirror tests: a proxy to deb.debian.org.

  mirror_proxy.py NETNS ADDRESS PORT_FILE

Listens on ADDRESS (a free port, written to PORT_FILE) inside the network
namespace NETNS (a /proc/PID/ns/net path) -- where build steps reach it as
another host -- and forwards every GET or HEAD of /debian/... to
http://deb.debian.org/debian/... from this process's own namespace. It tells
pbrx's own requests (User-Agent pbrx/...) from apt's and can change what
each side sees:

  POST /_mirror/mode   body: JSON, any of
                         {"pbrx_point_release": true}  every InRelease pbrx
                             fetches lists another sha256 for
                             main/binary-amd64/Packages (a point release, as
                             pbrx sees it; apt still gets the real file)
                         {"pbrx": "ok" | "drop"}  drop pbrx's connections
                         {"apt": "ok" | "refuse"} answer apt 503
  GET  /_mirror/stats  {"pbrx_inrelease": N, "apt_requests": N,
                        "log": ["UA-KIND PATH", ...]}
"""
import ctypes
import http.client
import http.server
import json
import os
import re
import socket
import sys
import threading

NETNS, ADDRESS, PORT_FILE = sys.argv[1:4]
LOCK = threading.Lock()
MODE = {"pbrx_point_release": False, "pbrx": "ok", "apt": "ok"}
STATS = {"pbrx_inrelease": 0, "apt_requests": 0, "log": []}
CLONE_NEWNET = 0x40000000


def listen_in(netns, address):
    """A listening socket in `netns`; this thread comes back to its own."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    other = os.open(netns, os.O_RDONLY)
    if libc.setns(other, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, 0))
        s.listen(64)
    finally:
        if libc.setns(own, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(own)
        os.close(other)
    return s


class Mirror(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self):
        if self.path != "/_mirror/mode":
            return self.reply(404)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with LOCK:
            MODE.update(json.loads(body))
        self.reply(200, b"{}", "application/json")

    def do_GET(self):
        if self.path == "/_mirror/stats":
            with LOCK:
                data = json.dumps(STATS).encode()
            return self.reply(200, data, "application/json")
        pbrx = self.headers.get("User-Agent", "").startswith("pbrx/")
        with LOCK:
            STATS["log"] = (STATS["log"] + [
                f"{'pbrx' if pbrx else 'apt'} {self.path}"])[-1000:]
            if pbrx and self.path.endswith("/InRelease"):
                STATS["pbrx_inrelease"] += 1
            if not pbrx:
                STATS["apt_requests"] += 1
            mode = dict(MODE)
        if pbrx and mode["pbrx"] == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if not pbrx and mode["apt"] == "refuse":
            return self.reply(503, b"refused by the test\n")
        if not self.path.startswith("/debian/"):
            return self.reply(404)
        up = http.client.HTTPConnection("deb.debian.org", 80, timeout=120)
        up.request(self.command, self.path,
                   headers={"User-Agent": self.headers.get("User-Agent", "")})
        r = up.getresponse()
        body = r.read()
        if (pbrx and self.path.endswith("/InRelease") and r.status == 200
                and mode["pbrx_point_release"]):
            body = re.sub(
                rb"^ ([0-9a-f])([0-9a-f]{63} +[0-9]+ main/binary-amd64/Packages)$",
                lambda m: b" " + (b"0" if m.group(1) != b"0" else b"1") + m.group(2),
                body, flags=re.M)
        self.send_response(r.status)
        for k in ("Content-Type", "Last-Modified", "ETag"):
            if r.getheader(k):
                self.send_header(k, r.getheader(k))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        up.close()

    do_HEAD = do_GET


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        pass  # the socket is bound already, in the other namespace

    def server_activate(self):
        pass


sock = listen_in(NETNS, ADDRESS)
server = Server((ADDRESS, 0), Mirror, bind_and_activate=False)
server.socket = sock
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(sock.getsockname()[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
