"""gunicorn settings (``gunicorn -c prisma/gunicorn_config.py``).

The map classification library (mapclassify, with numba) takes about 4 s to
import. The application imports it only where maps are classified, so other
processes never pay for it; under gunicorn it is imported once here, in the
master, and every forked worker starts with it instead of paying at its first map.
"""

import mapclassify  # noqa: F401
