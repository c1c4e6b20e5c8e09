"""gunicorn settings for the web tier (`gunicorn -c oms_project/gunicorn_conf.py oms_project.wsgi`).

Several worker processes share Prometheus samples through PROMETHEUS_MULTIPROC_DIR; any of them
answers /metrics for all. The directory is emptied when the master starts.
"""
import os

bind = os.environ.get("OMS_HTTP_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
accesslog = "-"
forwarded_allow_ips = os.environ.get("OMS_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    from infra.metrics import reset_multiprocess_dir

    reset_multiprocess_dir()


def child_exit(server, worker):
    from infra.metrics import mark_process_dead

    mark_process_dead(worker.pid)
