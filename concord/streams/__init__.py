"""The topics, one model per topic, and the tables: Concord's seam with Faust and Kafka."""
