"""Handoff to case workers: routing, ticket cards, the case desk, SLA and follow-up."""
