import os

from django.core.wsgi import get_wsgi_application

from config.chunked_bodies import ChunkedBodies

# A WSGI server runs production unless told otherwise: a forgotten variable must not serve DEBUG pages.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = ChunkedBodies(get_wsgi_application())
