"""gunicorn settings for `make run` and deployments (override with GUNICORN_CMD_ARGS)."""
import multiprocessing
import os

bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = multiprocessing.cpu_count()
# Threads that never wait on a client: each request is buffered in full by the
# worker's event loop before a thread serves it (chatbot/serving/worker.py), so
# slow or stalled clients cost a socket, not a thread. Retrieval is CPU-bound
# (about a millisecond, under the GIL), so a few threads per worker suffice;
# they overlap database writes. The index is shared by a worker's threads.
worker_class = "chatbot.serving.worker.BufferingThreadWorker"
threads = 4
worker_connections = 1000  # open connections per worker, slow ones included
# Load the app (and its index) once in the master; workers share the pages and
# each starts its own index watcher after the fork.
preload_app = True
timeout = 30           # a request takes milliseconds; a worker stuck this long is restarted
graceful_timeout = 20
keepalive = 5
max_requests = 5000    # recycle workers now and then to bound memory growth
max_requests_jitter = 500
limit_request_line = 4096
limit_request_fields = 50
limit_request_field_size = 8190
control_socket_disable = True  # no control socket (gunicorn >= 25): nothing else to secure
accesslog = "-"
# The access log records method, path, status, size and time, never bodies;
# the address field is left out: visitors' IP addresses are not logged.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
logger_class = "chatbot.serving.log_privacy.PrivateGunicornLogger"  # IP addresses scrubbed from every line


def post_fork(server, worker):
    """Each new or recycled worker loads the published index version before its first request
    (it inherits the version the master loaded at boot), and starts its index watcher now."""
    from chatbot.service import serve_published_in_worker
    serve_published_in_worker(worker.app.wsgi(), worker.notify)


def worker_exit(server, worker):
    """A worker that has served ends without tearing the interpreter down object by object.

    That teardown frees a preloaded heap one object at a time: 3.6 s at the
    clinic's size on a busy 2-core machine (more with a large index), and
    gunicorn forks the replacement of a recycled worker only once it has
    exited. Exit handlers still run first (the chat log writer flushes to the
    database or its spool; logging flushes). A worker that failed to boot is
    left alone: its exit status tells the master to stop.
    """
    if not worker.booted:
        return
    import atexit
    import sys
    atexit._run_exitfuncs()  # what sys.exit would run, then no finalization
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
