"""smsbot: a bilingual SMS information line about cancer immunotherapy."""

__version__ = "0.1.0"
