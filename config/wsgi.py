import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
# The URLconf (and with it the admin modules, core.admin_app) is read as the worker starts,
# not by the first request it serves.
import_module(settings.ROOT_URLCONF)
