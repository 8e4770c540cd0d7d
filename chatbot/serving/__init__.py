"""Serving over HTTP in production: the gunicorn worker that buffers requests, its error answers,
and log privacy. Above every other layer: it only wraps the WSGI app."""
