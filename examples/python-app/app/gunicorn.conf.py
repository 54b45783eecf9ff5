# gunicorn settings for a read-only root filesystem and a graceful `docker stop`.
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Workers' heartbeat files: /dev/shm is a tmpfs in every container; the root filesystem is
# read-only and /tmp may not be mounted.
worker_tmp_dir = "/dev/shm"
# SIGTERM (docker stop → latchkey → gunicorn) lets requests in flight finish for this long;
# keep it below latchkey's --stop-timeout and docker's stop timeout.
graceful_timeout = 5
accesslog = "-"
errorlog = "-"
