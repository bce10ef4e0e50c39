"""``KsqlPipeline``: the streams, tables and INSERT queries of a SQL directory, one resource each."""
from __future__ import annotations

from typing import Any, Mapping, Sequence, cast

import pulumi

from providers.contract import DEFAULT_READY_TIMEOUT, UNTYPED_DYNAMIC_RESOURCE
from providers.ksqldb.parser import Statement, builds, child_name, entry_of, parse_sources, related
from providers.ksqldb.resource import RESOURCE_BY_KIND, KsqlDirectory, KsqlInsert, KsqlStream, KsqlTable


class KsqlPipeline(pulumi.ComponentResource):
    """Every statement of ``sources`` (file name -> SQL text, e.g. ``load_sql_dir("ksql")``) as its own
    resource, declared in dependency order with ``parent=self``. Each object takes the names of the objects
    it reads from their resources, so Pulumi orders creates, deletes and cascading replacements, and
    ``pulumi preview`` shows one line per object; and the statements a rebuild of it needs (``related``),
    so its state does not grow with the directory. A ``KsqlDirectory`` of the declared names comes first
    (it retires what the first release's single resource managed and no file declares any more). ``variables``
    fill ``${name}``; ``streams_properties``
    (e.g. ``{"auto.offset.reset": "earliest"}``) are sent with every CREATE and INSERT. ``readers`` (object ->
    what reads it outside ksqlDB), ``retire`` and ``protect`` go to the directory, which refuses to drop a
    deployed object no file declares any more unless it is retired (:mod:`providers.ksqldb.directory`).

    Outputs: ``objects`` (names in dependency order); ``resources``: name -> resource; ``reads``: name -> the
    declared objects it reads; ``builds``: stream or table name -> the digest of its build
    (:func:`~providers.ksqldb.parser.builds`), known at preview.
    """

    def __init__(self, name: str, *, ksqldb_url: pulumi.Input[str], sources: Mapping[str, str],
                 variables: Mapping[str, str] | None = None, streams_properties: Mapping[str, str] | None = None,
                 username: pulumi.Input[str] | None = None, password: pulumi.Input[str] | None = None,
                 ready_timeout: float = DEFAULT_READY_TIMEOUT, readers: Mapping[str, Sequence[str]] | None = None,
                 retire: Sequence[str] = (), protect: bool = False, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:ksqldb:Pipeline", name, None, opts)
        # e.g. the connectors feeding the sources: the objects wait for them too
        external = cast(list, opts.depends_on) if opts and isinstance(opts.depends_on, list) else []
        statements = parse_sources(sources, variables or {})
        connection: dict[str, Any] = dict(ksqldb_url=ksqldb_url, username=username, password=password,
                                          ready_timeout=ready_timeout)
        by_name = {s.name: s for s in statements}
        entries = {s.name: entry_of(s) for s in statements}
        self.directory = KsqlDirectory(
            name, statements=list(entries.values()), readers={k: list(v) for k, v in (readers or {}).items()},
            retire=list(retire), protect=protect, **connection,
            opts=pulumi.ResourceOptions(parent=self, depends_on=external, aliases=[
                pulumi.Alias(type_=UNTYPED_DYNAMIC_RESOURCE, parent=pulumi.ROOT_STACK_RESOURCE)]))
        self.resources: dict[str, KsqlStream | KsqlTable | KsqlInsert] = {}
        for statement in statements:
            upstream = {dep: self.resources[dep] for dep in statement.depends_on}
            self.resources[statement.name] = RESOURCE_BY_KIND[statement.kind](
                child_name(name, statement), object_name=statement.name, kind=statement.kind,
                statement=statement.text, file=statement.file, index=statement.index, line=statement.line,
                column=statement.column,
                upstream={dep: _revision(resource, by_name[dep]) for dep, resource in upstream.items()},
                related=[entries[s.name] for s in related(statements, statement.name)],
                streams_properties=streams_properties, **connection,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*external, self.directory, *upstream.values()]))
        self.objects = [s.name for s in statements]
        self.reads = {s.name: list(s.depends_on) for s in statements}
        self.builds = builds(statements)
        self.register_outputs({"objects": self.objects})


def _revision(resource: KsqlStream | KsqlTable | KsqlInsert, statement: Statement) -> pulumi.Output[str]:
    """``statement``'s revision, as an output of its resource: a dependency of the reader (replacing the
    resource replaces its readers), known at preview (the reason the preview shows for them)."""
    return resource.object_name.apply(lambda _: statement.revision)
