"""The returnee bot: channels, dialogue, handoff and the `returnee-bot` command."""
