"""Outbound network concerns shared by every adapter: one guarded fetcher (``fetch``) and the one rule
that keeps secrets out of text (``redact``)."""
