"""The sandbox: the real bot against a Bot API emulator, with a web chat to use it without Telegram."""
