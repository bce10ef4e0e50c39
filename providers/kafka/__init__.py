"""Kafka as the application layer reads it: end offsets and consumer groups' committed offsets (``offsets``)."""
