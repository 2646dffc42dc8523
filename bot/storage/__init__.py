"""The bot's own tables and their repositories."""
