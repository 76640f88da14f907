"""Our exception types.

    SmsbotError
    ├── ConfigError        settings that cannot work (raised at start-up)
    ├── CatalogError       a content catalog that is missing, stale or broken
    └── StoreUnavailable   the session store did not answer in time

Third-party errors are converted once, at the boundary that calls the library.
"""


class SmsbotError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(SmsbotError):
    """The configuration cannot work."""


class CatalogError(SmsbotError):
    """A catalog is missing, stale or inconsistent."""


class StoreUnavailable(SmsbotError):
    """The session store failed or timed out; callers fall back to a stateless reply."""
