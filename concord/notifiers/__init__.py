"""One notifier per channel (Slack, email), their registry and the messages they carry."""
