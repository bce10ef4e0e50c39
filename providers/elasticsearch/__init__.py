"""Elasticsearch application layer: composable index templates (``IndexTemplate``), each build's index
(``VersionedIndex``), the alias readers use (``IndexAlias``) and their client."""
from providers.elasticsearch.client import ElasticsearchClient
from providers.elasticsearch.index_alias import IndexAlias
from providers.elasticsearch.index_template import IndexTemplate
from providers.elasticsearch.versioned_index import VersionedIndex

__all__ = ["ElasticsearchClient", "IndexAlias", "IndexTemplate", "VersionedIndex"]
