"""Settings for development: the production settings plus the devkit app (`manage.py demo`).

`./bin/demo` and the tests use this module; the production image does not ship `devkit/`.
Production refuses to start without a SECRET_KEY when DEBUG is off; here one is made once per
checkout (var/dev-secret-key) when neither SECRET_KEY nor SECRET_KEY_FILE is set.
"""

import os
import secrets
from pathlib import Path


def _development_secret_key() -> str:
    path = Path(__file__).resolve().parent.parent / "var" / "dev-secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: a parallel test worker sees the whole key or none.
        aside = path.with_name(f".dev-secret-key.{os.getpid()}")
        aside.write_text(secrets.token_urlsafe(64))
        aside.chmod(0o600)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it first; use theirs
        finally:
            aside.unlink()
    return str(path)


if not (os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE")):
    os.environ["SECRET_KEY_FILE"] = _development_secret_key()  # inherited by workers the tests start

from config.settings import *  # noqa: E402, F403
from config.settings import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "devkit"]
