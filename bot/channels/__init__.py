"""Channels: Telegram and the console. They translate updates into events and send replies."""
