"""Telegram-facing code: one module per flow, keyboards and the callback-data codec."""
