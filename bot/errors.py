"""Our exception types: every error this package raises on purpose, in one tree.

    SmsbotError
    ├── ConfigError        settings that cannot work (raised at start-up)
    ├── CatalogError       a content catalog that is missing, stale or broken
    ├── StoreUnavailable   the session store did not answer in time
    ├── WebhookError       a webhook request the bot refuses to answer
    │   ├── SignatureError     not signed by Twilio (missing or wrong signature)
    │   ├── BodyTooLarge       more than MAX_BODY_BYTES
    │   └── ClientGone         the client hung up before the whole body arrived
    └── ConsoleError       the staff console refuses an action
        ├── SignInRequired     no signed-in account for a page that needs one
        ├── AccountError       a bad account name, role or password, or sign-ins paused
        ├── VersionConflict    another catalog version was published meanwhile
        ├── ImportFileError    an uploaded CSV or PO file that cannot be imported
        └── PreviewError       a draft text that cannot be rendered yet (while typing)

Third-party errors are converted once, at the boundary that calls the library. Only the HTTP
layers (bot/webhook/, bot/console/routes/) decide what a status code is.
"""


class SmsbotError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(SmsbotError):
    """The configuration cannot work."""


class CatalogError(SmsbotError):
    """A catalog is missing, stale or inconsistent."""


class StoreUnavailable(SmsbotError):
    """The session store failed or timed out; callers fall back to a stateless reply."""


class WebhookError(SmsbotError):
    """A webhook request that gets a refusal instead of an answer."""


class SignatureError(WebhookError):
    """The request is not from Twilio. `missing` tells 'no signature' from 'wrong signature'."""

    def __init__(self, missing: bool, shared_key_needed: bool = False):
        super().__init__("signature missing" if missing else "signature invalid")
        self.missing = missing
        # Signed with a webhook SharedKey, and none is configured: the operator must act.
        self.shared_key_needed = shared_key_needed


class BodyTooLarge(WebhookError):
    """The request body is larger than the webhook accepts."""


class ClientGone(WebhookError):
    """The client hung up before the whole body arrived."""


class ConsoleError(SmsbotError):
    """The staff console refuses an action."""


class SignInRequired(ConsoleError):
    """The page needs a signed-in account."""


class AccountError(ConsoleError):
    """An account that cannot be created, or sign-ins paused after too many failures."""


class VersionConflict(ConsoleError):
    """Someone published in the meantime."""


class ImportFileError(ConsoleError):
    """An uploaded catalog file that cannot be read or does not fit the catalog."""


class PreviewError(ConsoleError):
    """A draft text that cannot be rendered (an unknown placeholder or a stray brace)."""
