#!/usr/bin/env python3
"""Cold start of the Lambda binary, measured from outside, as the Lambda service would see it.

For each run a fresh `esign-lambda` process starts against a local Lambda runtime API (this
script: GET .../invocation/next, POST .../response), gets one HTTP API event, and answers it.
Its first AWS call goes over HTTPS: a TLS terminator here (a throwaway CA the SDK is told to
trust through SSL_CERT_FILE) forwards to the emulator, so the TLS client's first handshake and
its crypto set-up are inside the measurement. Reported (median of --runs):
  init        process start -> first GET .../invocation/next (runtime, platform wiring)
  invocation  event handed out -> its response posted (the first request, its first AWS call)
  total       the two together: what a caller waits for on a cold start

  scripts/lambda_coldstart.py --binary target/release/esign-lambda [--handler sign-contract]
      [--emulator http://127.0.0.1:4599] [--runs 20]

The emulator must be running (scripts/emulator.sh); the records table is created there if missing.
Needs openssl (the throwaway CA) and boto3 (moto's venv has it) only for that table.
"""
import argparse
import http.server
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TABLE = "esign-coldstart"


def make_certs(d):
    """A CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    def run(*args):
        subprocess.run(args, check=True, capture_output=True)
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem"))
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=coldstart test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def tls_terminator(cert, key, upstream):
    """Accepts TLS on an ephemeral port and pipes each connection to `upstream` (host, port)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]

    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(conn):
        try:
            tls = ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        up = socket.create_connection(upstream)
        threading.Thread(target=pipe, args=(up, tls), daemon=True).start()
        pipe(tls, up)

    def accept():
        while True:
            conn, _ = lsock.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return port


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The part of the Lambda runtime API a function's first invocation uses."""

    def __init__(self, event):
        super().__init__(("127.0.0.1", 0), Handler)
        self.event = event
        self.reset()

    def handle_error(self, request, client_address):
        pass  # a killed run's connections

    def reset(self):
        self.t_next = self.t_response = None
        self.response = None
        self.done = threading.Event()
        self.served = False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        s = self.server
        if not self.path.endswith("/invocation/next"):
            return self.reply(404, b"{}")
        if s.served:  # the second request: no more events in this run
            s.done.wait(30)
            return self.reply(500, b"{}")
        s.served = True
        s.t_next = time.perf_counter()
        body = json.dumps(s.event).encode()
        self.send_response(200)
        for k, v in {
            "Lambda-Runtime-Aws-Request-Id": "req-1",
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 29000),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:coldstart",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        s = self.server
        n = int(self.headers.get("Content-Length", 0) or 0)
        data = self.rfile.read(n) if n else b""
        if "/invocation/" in self.path:
            s.t_response = time.perf_counter()
            s.response = (self.path.rsplit("/", 1)[-1], data)
            self.reply(202, b"{}")
            s.done.set()
        else:  # init/error
            s.response = ("init-error", data)
            self.reply(202, b"{}")
            s.done.set()

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def http_api_event(method, path, headers):
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.com", "user-agent": "coldstart", **headers},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "req-1", "routeKey": f"{method} {path}", "stage": "$default",
            "time": "02/Dec/2026:10:00:00 +0000", "timeEpoch": int(time.time() * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
                     "userAgent": "coldstart"},
        },
        "isBase64Encoded": False,
    }


def ensure_table(emulator):
    import boto3
    ddb = boto3.client("dynamodb", endpoint_url=emulator, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    if TABLE in ddb.list_tables()["TableNames"]:
        return
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK")],
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--handler", default="sign-contract")
    ap.add_argument("--emulator", default=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4599"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--plain-http", action="store_true", help="talk to the emulator without TLS (for comparison)")
    a = ap.parse_args()

    ensure_table(a.emulator)
    up = urllib.parse.urlparse(a.emulator)
    tmp = tempfile.mkdtemp(prefix="coldstart-")
    ca, cert, key = make_certs(tmp)
    tls_port = tls_terminator(cert, key, (up.hostname, up.port))
    endpoint = a.emulator if a.plain_http else f"https://localhost:{tls_port}"

    # `POST /v1/contracts/{id}/sign` (served by sign-contract, the largest function, also by the
    # per-operation binaries of before) with a well-formed but unknown API key: authentication
    # reads the table once (DynamoDB GetItem) and the answer is a 401 problem.
    event = http_api_event("POST", "/v1/contracts/ctr_coldstart/sign",
                           {"authorization": "Bearer esk_" + "A" * 43, "content-type": "application/json"})
    event["body"] = "{}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "_HANDLER": a.handler,
        "AWS_LAMBDA_FUNCTION_NAME": a.handler,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/coldstart",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": endpoint,
        "SSL_CERT_FILE": ca,
        "RUST_LOG": "warn",
        "ESIGN_TABLE": TABLE,
        "ESIGN_FILES_BUCKET": "esign-coldstart-files",
        "ESIGN_ROOT_CA_KEY": "alias/none-root",
        "ESIGN_ISSUING_CA_KEY": "alias/none-issuing",
        "ESIGN_TSA_KEY": "alias/none-tsa",
        "ESIGN_OCSP_KEY": "alias/none-ocsp",
        "ESIGN_EVIDENCE_KEY": "alias/none-evidence",
        "ESIGN_SECRETS_KEY": "alias/none-secrets",
        "ESIGN_STACK_NAME": "coldstart",
        "ESIGN_MODE": "production",
    }
    inits, invocations, totals = [], [], []
    for i in range(a.runs):
        # A runtime API of its own per run: nothing of the last (killed) process reaches it.
        api = RuntimeApi(event)
        threading.Thread(target=api.serve_forever, daemon=True).start()
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{api.server_address[1]}"
        t0 = time.perf_counter()
        proc = subprocess.Popen([a.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ok = api.done.wait(30)
        proc.kill()
        _, err = proc.communicate()
        api.shutdown()
        api.server_close()
        if not ok or api.t_next is None or api.t_response is None or api.response[0] != "response":
            sys.exit(f"run {i}: no response ({api.response}); stderr:\n{err.decode(errors='replace')[-2000:]}")
        body = json.loads(api.response[1])
        if i == 0:
            print(f"first answer: {body.get('statusCode')} {body.get('body', '')[:120]}", file=sys.stderr)
        inits.append((api.t_next - t0) * 1000)
        invocations.append((api.t_response - api.t_next) * 1000)
        totals.append((api.t_response - t0) * 1000)
    med = statistics.median
    print(json.dumps({
        "binary": a.binary, "handler": a.handler, "runs": a.runs, "https": not a.plain_http,
        "init_ms": round(med(inits), 1), "first_invocation_ms": round(med(invocations), 1),
        "total_ms": round(med(totals), 1),
        "total_min_max_ms": [round(min(totals), 1), round(max(totals), 1)],
    }))


if __name__ == "__main__":
    main()
