"""What the pipeline computes and shows, as data: connector configs (``connectors``), the generator's
schemas (``generator``), rates and thresholds (``rates``), alert rules (``alerting``), the dashboard files
(``dashboards``)."""
