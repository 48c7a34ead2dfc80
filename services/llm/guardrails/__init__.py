"""Checks that are code, not prompt text: the inbound message's sentiment and intents, and the
outgoing reply's safety."""
