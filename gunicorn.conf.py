"""gunicorn settings for `make run` and the benchmarks (gunicorn reads this file from the working folder)."""


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
