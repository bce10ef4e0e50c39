"""``VersionedIndex``: one build's concrete index ``<alias>_v<version>``, which its sink fills beside the index
readers see through the alias ``<alias>`` (``IndexAlias`` moves the alias once this one has caught up).

A version is one build of what fills the index as declared (the stack: the build digest of the ksqlDB table's
statements, known at preview), so a new version is a new resource: the engine creates it before it deletes
the earlier one (create before delete), and deletes the earlier one only at the end of the update. The write:
``PUT <index>`` with no body, its settings and mappings from the matching index template (an index of that
name already there is adopted as it is).

``build`` is what fills it on the server (the table's persistent query id). A new ``build`` under the same
name is the table rebuilt from the same statements (its query failed, or it was dropped outside the stack):
its topic starts again at offset 0, and the sink versions documents by offset, so the index must be filled
anew. Readers keep what they saw meanwhile: the index is write-blocked and cloned to ``<index>-held``, the
alias moved onto that copy in one ``_aliases`` request, the index deleted and made again; ``IndexAlias``
moves the alias back once the new build has caught up and deletes the copy. Each step looks first, so a run
cut short anywhere converges on the next one.

The delete: ``DELETE <index>`` (and a held copy), unless the alias still points at it — it still serves the
readers (a swap that has not happened, e.g. a rebuild that did not catch up in time): then it is left for
the swap that replaces it, which deletes it right after. Refresh: gone when the index is.
Facts of Elasticsearch 8.19 (checked on a real node by tests/provider/test_versioned_index.py): ``PUT`` of an
existing index is refused with 400 ``resource_already_exists_exception``; ``GET <name>/_alias`` answers 404
for a name nothing has; ``_clone`` needs ``index.blocks.write`` on its source and copies its documents.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

import pulumi
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
from providers.declare import DeclaredResource, declare
from providers.elasticsearch.client import ElasticsearchClient
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


def held_name(index: str) -> str:
    """The copy of ``index`` that serves readers while a new build refills ``index``."""
    return f"{index}-held"


def versions_prefix(alias: str) -> str:
    """What the name of every versioned index of ``alias`` starts with."""
    return f"{alias}_v"


def name_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    """What is wrong with the ``alias`` and ``index`` inputs: each a legal name, the index ``<alias>_v<version>``."""
    failures = []
    alias, index = news.get("alias"), news.get("index")
    for key, value in (("alias", alias), ("index", index)):
        if not is_unknown(value) and (reason := check_index_name(key, value)):
            failures.append(CheckFailure(key, reason))
    if not failures and isinstance(alias, str) and isinstance(index, str) \
            and not (index.startswith(versions_prefix(alias)) and len(index) > len(versions_prefix(alias))):
        failures.append(CheckFailure("index", f"index {index!r} must be named {versions_prefix(alias)}<version>"))
    return failures


CONTRACT = Contract("VersionedIndex", [
    *connection("elasticsearch_url", secrets_=("password", "api_key"), service="Elasticsearch"),
    Field("alias", IDENTITY, required=True, doc="the alias readers use (the index name before versions)",
          annotation="str"),
    Field("index", IDENTITY, required=True, annotation="str",
          doc="the concrete index, `<alias>_v<version>`: a new version is a new index, created before the "
              "earlier one is deleted"),
    Field("build", IN_PLACE, annotation="str",
          doc="what fills it on the server (e.g. the query id): a new one under the same name refills the index, "
              "readers kept on a held copy meanwhile"),
    Field("adopted", OUTPUT, doc="the index existed already", annotation="bool"),
])


class VersionedIndexProvider(ReadBackProvider):
    """Create (or adopt), read and delete one versioned index. Holds no state."""

    contract = CONTRACT
    id_output = "index"
    client_class = ElasticsearchClient
    url_input = "elasticsearch_url"
    delete_before_replace = False  # the new build's index exists before the earlier one goes

    def problems(self, news: dict[str, Any]) -> list[CheckFailure]:
        return name_failures(news)

    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        index = props["index"]
        where = f"Elasticsearch at {props['elasticsearch_url']}"
        with self.client(props) as es:
            es.wait_ready()
            if olds is not None and olds.get("build") not in (None, props.get("build")):
                self._hold(es, props["alias"], index)
            adopted = adoption(olds, lambda: es.names_behind(index) is not None, f"index {index!r}", where)
            es.create_index(index)
            outs = self.read_back(es, index, {**props, "adopted": adopted})
        return read_back_of_write(outs, f"index {index!r}", where)

    def read_back(self, es: ElasticsearchClient, index: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The index as Elasticsearch has it: None when no concrete index has the name."""
        behind = es.names_behind(index)
        return {**props, "index": index} if behind is not None and index in behind else None

    @staticmethod
    def _hold(es: ElasticsearchClient, alias: str, index: str) -> None:
        """Empty ``index`` for a new build of the same name, readers kept on a copy (module docstring)."""
        behind = es.names_behind(index)
        if behind is None or index not in behind:
            return
        held = held_name(index)
        if alias in behind[index]:
            if es.names_behind(held) is not None:  # left by an earlier refill: older than what readers see now
                es.delete_index(held)
            es.block_writes(index)
            es.clone_index(index, held)
            es.update_aliases([{"add": {"index": held, "alias": alias}}, {"remove": {"index": index, "alias": alias}}])
        es.delete_index(index)

    def delete_object(self, es: ElasticsearchClient, index: str) -> None:
        alias = index[:index.rindex("_v")]
        for name in (index, held_name(index)):
            behind = es.names_behind(name)
            if behind is None or name not in behind:
                continue
            if alias in behind[name]:
                pulumi.log.warn(f"index {name!r} still serves the alias {alias!r}: left for the swap that replaces it")
                continue
            es.delete_index(name)


if TYPE_CHECKING:  # typed inputs of VersionedIndex (python -m tools.generated)
    class VersionedIndex(DeclaredResource):
        """The inputs and fields of the ``VersionedIndex`` field table, typed."""

        def __init__(
            self,
            resource_name: str,
            *,
            elasticsearch_url: pulumi.Input[str],
            username: pulumi.Input[str] | None = None,
            password: pulumi.Input[str] | None = None,
            api_key: pulumi.Input[str] | None = None,
            ready_timeout: pulumi.Input[float] | None = None,
            probe_timeout: pulumi.Input[float] | None = None,
            verify: pulumi.Input[bool | str] | None = None,
            alias: pulumi.Input[str],
            index: pulumi.Input[str],
            build: pulumi.Input[str] | None = None,
            opts: pulumi.ResourceOptions | None = None,
        ) -> None: ...

        elasticsearch_url: pulumi.Output[str]
        username: pulumi.Output[str]
        password: pulumi.Output[str]
        api_key: pulumi.Output[str]
        ready_timeout: pulumi.Output[float]
        probe_timeout: pulumi.Output[float]
        verify: pulumi.Output[bool | str]
        alias: pulumi.Output[str]
        index: pulumi.Output[str]
        build: pulumi.Output[str]
        adopted: pulumi.Output[bool]
else:
    VersionedIndex = declare(CONTRACT, VersionedIndexProvider, module="elasticsearch", name="VersionedIndex", doc="""\
    One build's index ``index`` (``<alias>_v<version>``), made from the index template; ``IndexAlias`` points
    the readers' alias ``alias`` at it once it has caught up.""")
