"""A small Flask app of the kind that used to need a docker-entrypoint.sh: it takes its
database password and API key from the environment, which latchkey fills from /run/secrets
before it starts gunicorn as the unprivileged user `app`.

`/` reports who the app runs as and which secrets it received, as length and fingerprint
(never the value), so that a deployment can be checked from outside.
"""
import hashlib
import os
import time

from flask import Flask, jsonify

app = Flask(__name__)

SECRETS = ("DB_PASSWORD", "API_KEY")
# Operators (and the tests) mark the app unhealthy by creating this file on the tmpfs.
UNHEALTHY_FLAG = os.environ.get("APP_UNHEALTHY_FLAG", "/tmp/app-unhealthy")
# Time the app needs before it serves traffic (cache warm-up, migrations...): /health/startup.
WARMUP_SECONDS = float(os.environ.get("APP_WARMUP_SECONDS", "0"))
_started_at = time.monotonic()


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


@app.get("/")
def index():
    return jsonify(
        uid=os.getuid(),
        gid=os.getgid(),
        groups=sorted(os.getgroups()),
        pid=os.getpid(),
        ppid=os.getppid(),
        secrets={
            name: {"length": len(os.environ[name]), "sha256": fingerprint(os.environ[name])}
            for name in SECRETS
            if name in os.environ
        },
        # latchkey scrubs its own settings from the app's environment: this list stays empty.
        latchkey_settings_seen=sorted(k for k in os.environ if k.startswith("LATCHKEY_")),
    )


def _started() -> bool:
    return time.monotonic() - _started_at >= WARMUP_SECONDS


def _ready() -> bool:
    return _started() and all(os.environ.get(name) for name in SECRETS) and not os.path.exists(UNHEALTHY_FLAG)


def _answer(ok: bool, check: str):
    return jsonify(check=check, status="ok" if ok else "failing"), 200 if ok else 503


@app.get("/health/liveness")
def liveness():
    # The process answers: restarting it would not help anything else.
    return _answer(True, "liveness")


@app.get("/health/startup")
def startup():
    return _answer(_started(), "startup")


@app.get("/health/readiness")
def readiness():
    return _answer(_ready(), "readiness")


@app.get("/health")
def health():
    return _answer(_ready(), "health")
