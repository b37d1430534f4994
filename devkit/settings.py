"""Settings for development: the production settings plus the devkit app (`manage.py demo`).

`./bin/demo` and the tests use this module; the production image does not ship `devkit/`.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "devkit"]
