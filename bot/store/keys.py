"""The one place Redis key names are made, for the session store and for the staff console.

`{...}` is a Redis Cluster hash tag: all keys of one sender live in one slot, and so do all keys
of the staff console, so one script can touch them together. Key names are a data format that
outlives the code: change one only with a migration.

    PREFIX:{SENDER}:s                      a sender's session (one line, see codec.py)
    PREFIX:{SENDER}:o                      the sender opted out (never expires)
    PREFIX:{SENDER}:m                      hash: MessageSid -> answer given, for Twilio retries
    PREFIX:{SENDER}:f                      messages counted in the current flood window
    PREFIX:{PREFIX:staff}:catalog:version  the published catalog version number
    PREFIX:{PREFIX:staff}:catalog:v:N      snapshot N and who published it, when and what changed
    PREFIX:{PREFIX:staff}:drafts           hash: one field per edited text or keyword list
    PREFIX:{PREFIX:staff}:import:TOKEN     an uploaded file waiting for a yes (expires)
    PREFIX:{PREFIX:staff}:audit            list: every sign-in, draft, publish and restore
    PREFIX:{PREFIX:staff}:audit:failed     failed sign-ins recorded in the current window
    PREFIX:{PREFIX:staff}:sign-offs        hash: snippet ID -> its sign-off (who, role, date)
    PREFIX:{PREFIX:staff}:user:NAME        hash: role, password hash
    PREFIX:{PREFIX:staff}:signin:NAME|ADDRESS  sign-in attempts in the current window
    PREFIX:{PREFIX:callbacks}:open         sorted set: open callback request ID -> time asked
    PREFIX:{PREFIX:callbacks}:req:ID       hash: one callback request, its number sealed
    PREFIX:{PREFIX:callbacks}:sender:HASH  the sender's open request ID (one per sender)
    PREFIX:{PREFIX:callbacks}:closed       stream: closed requests, for statistics only
"""

from __future__ import annotations


class Keys:
    """Keys of one sender's session, opt-out, recorded answers and flood counter."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def all_but_opt_out(self, sender: str) -> list[str]:
        return [self.session(sender), self.answers(sender), self.flood(sender)]

    def session(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:s"

    def opt_out(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:o"

    def answers(self, sender: str) -> str:
        """A hash: MessageSid -> the answer given (snippet IDs), for Twilio's retries."""
        return f"{self.prefix}:{{{sender}}}:m"

    def flood(self, sender: str) -> str:
        return f"{self.prefix}:{{{sender}}}:f"


class StaffKeys:
    """Keys of the staff console: catalog versions, drafts, the audit trail and accounts."""

    def __init__(self, prefix: str):
        self._base = f"{prefix}:{{{prefix}:staff}}"

    @property
    def version(self) -> str:
        return f"{self._base}:catalog:version"

    @property
    def snapshot_prefix(self) -> str:
        """Snapshot N is this followed by N (the publish script appends the number)."""
        return f"{self._base}:catalog:v:"

    def snapshot(self, number: int) -> str:
        return f"{self.snapshot_prefix}{number}"

    @property
    def drafts(self) -> str:
        return f"{self._base}:drafts"

    def stash(self, token: str) -> str:
        return f"{self._base}:import:{token}"

    @property
    def audit(self) -> str:
        return f"{self._base}:audit"

    @property
    def sign_offs(self) -> str:
        return f"{self._base}:sign-offs"

    @property
    def failed_sign_ins(self) -> str:
        return f"{self._base}:audit:failed"

    def user(self, name: str) -> str:
        return f"{self._base}:user:{name}"

    def sign_in_attempts(self, name: str, address: str) -> str:
        return f"{self._base}:signin:{name}|{address}"

    def sign_in_pace(self, name: str) -> str:
        """When the next sign-in attempt on a much-guessed name may come (ms since the epoch)."""
        return f"{self._base}:signin-pace:{name}"

    @property
    def users_pattern(self) -> str:
        """SCAN pattern for every account's key (`user` plus the name)."""
        return f"{self._base}:user:*"

    def session(self, session_id: str) -> str:
        return f"{self._base}:session:{session_id}"

    def sessions_of(self, name: str) -> str:
        return f"{self._base}:sessions:{name}"

    @property
    def restore_requests(self) -> str:
        return f"{self._base}:restore:asked"


class CallbackKeys:
    """Keys of the nurse callback queue, all in one slot (see bot/callbacks/queue.py)."""

    def __init__(self, prefix: str):
        self._base = f"{prefix}:{{{prefix}:callbacks}}"

    @property
    def open(self) -> str:
        return f"{self._base}:open"

    @property
    def closed(self) -> str:
        return f"{self._base}:closed"

    @property
    def request_prefix(self) -> str:
        """Request ID's key is this followed by the ID (the scripts append it)."""
        return f"{self._base}:req:"

    @property
    def sender_prefix(self) -> str:
        """A sender's pointer is this followed by the sender's hash."""
        return f"{self._base}:sender:"
