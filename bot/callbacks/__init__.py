"""The nurse callback queue: a patient texts NURSE, a nurse signed in to the staff console
claims the request, calls, and records how it went.

- `sealed`: the one phone number the line keeps, encrypted (AES-256-GCM, CALLBACK_KEY).
- `window`: when the patient can expect the call, in clinic hours, in the patient's words.
- `queue`: the requests in Redis, changed only by Lua scripts (atomic across workers).
- `desk`: what a text asking for (or cancelling) a call does, for the conversation.
- The /staff/callbacks pages are in bot/console/routes/callbacks.py; the keys in bot/store/keys.py.
"""
