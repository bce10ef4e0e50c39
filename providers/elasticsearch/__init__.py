"""Elasticsearch application layer: composable index templates (``IndexTemplate``), versioned indices behind
their aliases (``VersionedIndex``) and their client."""
from providers.elasticsearch.client import ElasticsearchClient
from providers.elasticsearch.provider import IndexTemplate
from providers.elasticsearch.versioned_index import VersionedIndex

__all__ = ["ElasticsearchClient", "IndexTemplate", "VersionedIndex"]
