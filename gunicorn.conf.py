"""gunicorn settings for `make run` and the benchmarks (gunicorn reads this file from the working folder)."""


def post_worker_init(worker):
    # Each worker loads the geometry and reference tables before its first request, not during it.
    from vrp.app import warm_up

    warm_up(worker.wsgi)
