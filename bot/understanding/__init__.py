"""Understanding what patients write: safety concepts first, then menus, drug names and topics.

Everything here is pure and loads its word data once per process; `Understanding.read`
turns one message (and the session's menu) into a `Reading` that the router acts on and the
staff console can show.
"""
