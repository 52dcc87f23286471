"""The installed package's WSGI entry point: ``gunicorn --config gunicorn.conf.py vrp.wsgi:server`` from any
folder (the checkout's top-level app.py does the same for `make run`). Settings come from the environment
(settings.py); nothing is read from the warehouse here."""

from vrp.app import create_app

app = create_app()
server = app.server

__all__ = ["app", "server"]
