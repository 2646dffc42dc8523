"""Multilingual NLU: language, intent, topic, service and region for a returnee's message."""
