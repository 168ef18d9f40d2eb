"""The rules of every stage, pure: no Faust, no Kafka, no I/O."""
