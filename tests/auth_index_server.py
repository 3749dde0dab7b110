"""A PEP 503 index (a directory served over HTTP) that answers only
requests with HTTP basic auth for one user, for the index-credentials test.

    auth_index_server.py BIND DIRECTORY USER PASSWORD

Prints "port N" once it listens; logs "GET PATH user=USER|-> 401" per
request on stderr.
"""
import base64
import functools
import http.server
import sys


def main():
    bind, directory, user, password = sys.argv[1:5]
    want = "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != want:
                sys.stderr.write("GET %s -> 401\n" % self.path)
                sys.stderr.flush()
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="index"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            sys.stderr.write("GET %s user=%s\n" % (self.path, user))
            sys.stderr.flush()
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        (bind, 0), functools.partial(Handler, directory=directory))
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
