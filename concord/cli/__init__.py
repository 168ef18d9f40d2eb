"""The `concord` command: its subcommands, their I/O, the demo, and the CLI's Kafka client."""
