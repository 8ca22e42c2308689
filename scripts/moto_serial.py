"""moto's server with request handling serialized: `moto_serial.py HOST PORT`.

moto's backends are not thread-safe: two concurrent DynamoDB TransactWriteItems whose conditions
both name the same item version can both succeed, where DynamoDB lets exactly one win. The
platform relies on that atomicity (conditional state transitions), so the local emulator handles
one AWS call at a time; connections are still accepted concurrently.
"""
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialize the body inside the lock: moto builds it from shared state.
        return list(app(environ, start_response))


run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, request_handler=MotoRequestHandler)
