"""Clickstream pipeline: stack configuration, the analytics wiring and the ops tools."""
