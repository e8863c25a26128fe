"""WSGI entry point: ``gunicorn wsgi:app``."""

from mixer import create_app

app = create_app()
