"""Elasticsearch application layer: composable index templates (``IndexTemplate``) and their client."""
from providers.elasticsearch.client import ElasticsearchClient
from providers.elasticsearch.index_template import IndexTemplate

__all__ = ["ElasticsearchClient", "IndexTemplate"]
