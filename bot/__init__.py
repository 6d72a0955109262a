"""Wiring of the chatshop bot: configuration, the Application, entry points."""
