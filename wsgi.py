"""WSGI entry point: ``gunicorn wsgi:app``; also found by ``flask`` without ``--app``."""
from marketplace import create_app

app = create_app()
