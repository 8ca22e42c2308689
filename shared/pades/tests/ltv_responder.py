#!/usr/bin/env python3
"""The test PKI's revocation endpoints on 127.0.0.1 (what the certificates of ltv_pki.sh name):
POST /ocsp (application/ocsp-request) answered by `openssl ocsp -index` with the delegated
responder, GET /int.crl (the issuing CA's CRL, `openssl ca -gencrl`), GET /int.crt.
Usage: ltv_responder.py PKI_DIR PORT. Only poppler's pdfsig asks it (NSS checks OCSP online when
a certificate names a responder); pyHanko runs without any network in the tests."""
import http.server, os, subprocess, sys, tempfile

pki, port = os.path.abspath(sys.argv[1]), int(sys.argv[2])
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ltv_pki.sh")

class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, ctype, data):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with tempfile.TemporaryDirectory() as d:
            q, r = os.path.join(d, "q.der"), os.path.join(d, "r.der")
            open(q, "wb").write(body)
            p = subprocess.run(["openssl", "ocsp", "-index", "index_int.txt", "-CA", "int.pem", "-rsigner", "ocsp.pem",
                                "-rkey", "ocsp.key", "-rmd", "sha256", "-reqin", q, "-respout", r, "-ndays", "7"],
                               cwd=pki, capture_output=True)
            if p.returncode != 0:
                self.send_response(500); self.end_headers(); return
            self.reply("application/ocsp-response", open(r, "rb").read())

    def do_GET(self):
        if self.path.endswith("/int.crl"):
            with tempfile.TemporaryDirectory() as d:
                out = os.path.join(d, "int.crl")
                subprocess.run([script, pki, "crl", "int", out], check=True, capture_output=True)
                return self.reply("application/pkix-crl", open(out, "rb").read())
        if self.path.endswith("/int.crt"):
            der = subprocess.run(["openssl", "x509", "-in", os.path.join(pki, "int.pem"), "-outform", "DER"],
                                 capture_output=True).stdout
            return self.reply("application/pkix-cert", der)
        self.send_response(404); self.end_headers()

    def log_message(self, fmt, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
