"""``VersionedIndex``: a concrete index ``<alias>_v<version>`` behind the alias ``<alias>`` that readers use.

Readers (Grafana datasources, dashboards, alert rules) keep the name they have always used, now an alias;
the index behind it carries the version of what fills it (the stack: a digest of the ksqlDB table's
persistent query id), so a rebuild gets an index of its own. Facts of Elasticsearch 8.19 this kind relies
on (its alias and index APIs, checked on a real node by tests/provider/test_versioned_index.py):

- An alias and an index cannot share a name (``invalid_alias_name_exception`` "an index or data stream exists
  with the same name as the alias"; ``invalid_index_name_exception`` "already exists as alias"). So a running
  stack's concrete index ``<alias>`` cannot simply get an alias of its own name. **Migration:** its writes are
  blocked (``index.blocks.write``, which ``_clone`` requires), it is cloned into the versioned index
  (``POST <alias>/_clone/<index>``: segments are hard-linked, nothing is reindexed, the block is lifted on
  the clone), and one ``POST _aliases`` adds the alias and deletes the old index (``remove_index``): the
  actions apply together, so a reader finds the name at every moment, with every document it had.
- ``POST _aliases`` is atomic: a new version is swapped in with ``add`` plus ``remove_index`` of the
  previous version in one request.
- ``GET <name>/_alias`` resolves a name: a concrete index answers under its own name, an alias under each
  index it points to; 404 when nothing has the name.
- A write through an alias with one index goes to that index; a write to an index whose writes are blocked
  is refused (403 ``cluster_block_exception``), for the seconds of the clone.

Which indices behind the alias are this kind's: those named ``<alias>_v...``. The write: look (one
``GET <alias>/_alias``); create the versioned index (``PUT``, its settings and mappings from the matching
index template; a leftover of an interrupted run is used as it is) or clone the concrete index of the
alias's name into it; then, unless the alias already points at exactly it, one ``_aliases`` request that
adds the alias, deletes the earlier versions and the migrated index, and takes the alias off any other index.
Every step looks before it acts, so a run interrupted anywhere converges on the next ``up``. Delete removes
the versioned indices behind the alias (and with them the alias). Refresh: the alias gone -> gone; pointing
elsewhere -> ``index`` shows what it points at (drift, undone by the next ``up``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from pulumi.dynamic import CheckFailure

from providers.contract import (
    IDENTITY,
    IN_PLACE,
    OUTPUT,
    Contract,
    Field,
    ReadBackProvider,
    adoption,
    connection,
    read_back_of_write,
)
from providers.declare import declare
from providers.elasticsearch.client import API_KEY_SCHEME, ElasticsearchClient
from providers.http import Endpoint
from providers.inputs import is_unknown

_ILLEGAL = re.compile(r'[\\/?"<>|\s,#:*A-Z]')
MAX_NAME_BYTES = 255  # MetadataCreateIndexService.validateIndexOrAliasName


def check_index_name(key: str, name: Any) -> str | None:
    """Why ``name`` is not a legal index or alias name, or None."""
    if not isinstance(name, str) or not name:
        return f"{key} must be a non-empty string"
    if _ILLEGAL.search(name) or name.startswith(("_", "-", "+")) or name in (".", ".."):
        return (f"{key} {name!r} must be lower case, must not start with _, - or + and must not contain "
                "wildcards, spaces or any of \\ / ? \" < > | , # :")
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"{key} {name!r} is longer than {MAX_NAME_BYTES} bytes"
    return None


def versions_prefix(alias: str) -> str:
    """What the name of every versioned index of ``alias`` starts with."""
    return f"{alias}_v"


CONTRACT = Contract("VersionedIndex", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("verify", IN_PLACE, default=True, doc="TLS verification: true, false or a CA bundle path"),
    Field("alias", IDENTITY, required=True, doc="the alias readers use (the index name before versions)"),
    Field("index", IN_PLACE, required=True,
          doc="the concrete index behind it, `<alias>_v<version>`; a change swaps the alias to a new index "
              "and deletes the earlier one in one `_aliases` request"),
    Field("adopted", OUTPUT, doc="the alias, or a concrete index of its name (migrated), existed already"),
])


class VersionedIndexProvider(ReadBackProvider):
    """Create/migrate, swap, read and delete one alias and its versioned index. Holds no state."""

    contract = CONTRACT
    id_output = "alias"

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        failures = []
        alias, index = news.get("alias"), news.get("index")
        for key, value in (("alias", alias), ("index", index)):
            if not is_unknown(value) and (reason := check_index_name(key, value)):
                failures.append(CheckFailure(key, reason))
        if not failures and isinstance(alias, str) and isinstance(index, str) \
                and not (index.startswith(versions_prefix(alias)) and len(index) > len(versions_prefix(alias))):
            failures.append(CheckFailure("index", f"index {index!r} must be named {versions_prefix(alias)}<version>"))
        url = news.get("elasticsearch_url")
        if not is_unknown(url) and not str(url or "").startswith(("http://", "https://")):
            failures.append(CheckFailure("elasticsearch_url", "elasticsearch_url must be an http(s) URL"))
        return failures

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        alias, index = props["alias"], props["index"]
        where = f"Elasticsearch at {props['elasticsearch_url']}"
        with self.client(props) as es:
            es.wait_ready()
            behind = es.names_behind(alias) or {}
            migrating = alias in behind  # a concrete index has the alias's name
            adopted = adoption(olds, lambda: bool(behind), f"index {alias!r}", where)
            if index not in behind:
                if migrating:
                    es.clone_index(alias, index)
                else:
                    es.create_index(index)
            if sorted(behind) != [index] or migrating:
                es.update_aliases(_swap(alias, index, behind))
            outs = self.read_back(es, alias, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"alias {alias!r} of index {index!r}", where)

    def client(self, props: Mapping[str, Any]) -> ElasticsearchClient:
        return ElasticsearchClient(Endpoint.from_inputs({**props, "url": props["elasticsearch_url"],
                                                         "api_key_scheme": API_KEY_SCHEME}))

    def read_back(self, es: ElasticsearchClient, alias: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The alias as Elasticsearch has it: None when there is none (a concrete index of its name is not
        it: the next ``up`` migrates it); ``index`` is the index it points at (several: comma-joined)."""
        behind = es.names_behind(alias)
        if not behind or alias in behind:
            return None
        return {**props, "alias": alias, "index": ",".join(sorted(behind))}

    def delete_object(self, es: ElasticsearchClient, alias: str) -> None:
        behind = es.names_behind(alias)
        if not behind or alias in behind:
            return
        ours = [name for name in behind if name.startswith(versions_prefix(alias))]
        others = [{"remove": {"index": name, "alias": alias}} for name in behind if name not in ours]
        es.update_aliases([{"remove_index": {"index": name}} for name in ours] + others)


def _swap(alias: str, index: str, behind: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The one ``_aliases`` request that leaves ``alias`` pointing at ``index`` alone: earlier versions and a
    migrated concrete index of the alias's name are deleted, other indices only lose the alias."""
    actions: list[dict[str, Any]] = [{"add": {"index": index, "alias": alias}}]
    for name in sorted(behind):
        if name == index:
            continue
        if name == alias or name.startswith(versions_prefix(alias)):
            actions.append({"remove_index": {"index": name}})
        else:
            actions.append({"remove": {"index": name, "alias": alias}})
    return actions


VersionedIndex = declare(CONTRACT, VersionedIndexProvider, module="elasticsearch", name="VersionedIndex", doc="""\
The index ``index`` (``<alias>_v<version>``) behind the alias ``alias``; a concrete index named ``alias``
(a stack deployed before versions) is cloned into ``index`` and replaced by the alias in one atomic step (an
alias cannot share a name with an index, so this is the only way to adopt it without a reindex).""")
