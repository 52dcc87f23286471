"""gunicorn's production settings, for `make run`, the container and the benchmarks (gunicorn reads this file from
the working folder; the command line overrides any of it, e.g. `--workers 4` or `--bind 0.0.0.0:8050`).

Why these (docs: README.md#deploying):
- Threaded workers (gthread), not the default sync ones. A sync worker is held by one connection from accept to
  the last byte: two clients sending their headers a byte at a time held both workers and a normal page waited
  23 s. gthread parks a connection that sends nothing on the worker's poller after a few seconds (gunicorn's own
  rule) and gives each request that does arrive a thread of its own, so a handful of slow clients occupy a
  handful of the 2 x 8 threads while every other request is served (tests/test_serving.py: six slow clients,
  /healthz still under a second). Threads suit this app: a request mostly waits on the warehouse or the cache,
  and the heavy numerical work releases the GIL.
- gunicorn has no deadline for a client that keeps trickling bytes, so on the internet it sits behind nginx
  (deploy/nginx.conf), which reads each request whole, with its own header and body timeouts, before passing
  it on over a fast local connection: slow clients then cost nginx a little memory, never a gunicorn thread.
- timeout: a worker whose main loop is silent this long is restarted. graceful_timeout: a restart lets requests
  in flight finish. keepalive: short, since nginx (not browsers) holds the connections.
- Request line and header limits at gunicorn's defaults, stated so they are not lost; bodies are limited by the
  app (VRP_MAX_CONTENT_LENGTH, 413) and by nginx (client_max_body_size).
- max_requests with jitter recycles a worker now and then, so slow growth of memory cannot build up.
"""

bind = "127.0.0.1:8050"
worker_class = "gthread"
workers = 2
threads = 8
timeout = 60
graceful_timeout = 30
keepalive = 5
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
max_requests = 2000
max_requests_jitter = 200


def post_worker_init(worker):
    # Each worker loads the geometry and reference tables before its first request, not during it. Whatever goes
    # wrong here is logged and the worker starts anyway: an exception in this hook would stop the whole server.
    try:
        from vrp.app import warm_up

        seconds = warm_up(worker.wsgi)
    except Exception:  # noqa: BLE001
        worker.log.warning("warm-up failed; the worker starts cold", exc_info=True)
        return
    if seconds is not None:
        worker.log.info("worker warmed up in %.2f s", seconds)
