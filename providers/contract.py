"""The provider contract: what every dynamic resource of ``providers`` declares and how it behaves.

Each resource has a field table (:class:`Contract` of :class:`Field`): per input, whether changing it
replaces the object (``identity``) or updates it in place (``in place``; connection settings are in
place: URLs and credentials are addresses, never identities), whether it is secret, and its default.
``check`` fills defaults and reports missing required inputs, ``diff`` sorts changes into replacements
and updates (a value not known yet counts as a change), and the resource classes take their
``additional_secret_outputs`` from the table, so none of these can disagree.

One convention each for: an object that is gone (:func:`gone`), a secret found changed out of band
(:data:`DRIFTED`), an adopted object (:func:`report_adopted`, through ``pulumi.log``), and the salted hash
that lets ``diff`` see a changed secret without keeping it (:func:`secret_hash`, :func:`secret_unchanged`).
"""
from __future__ import annotations

import abc
import contextlib
import dataclasses
import hashlib
import json
import secrets
import urllib.parse
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar

import pulumi
from pulumi import dynamic

from providers.http import (
    DEFAULT_PROBE_TIMEOUT,
    DEFAULT_READY_TIMEOUT,
    Endpoint,
    ServiceClient,
    ServiceUnreachable,
    masked,
)
from providers.inputs import is_unknown, whole_numbers

UNTYPED_DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"  # the type of a dynamic resource without a token
DRIFTED = "drifted"  # the stored hash of a secret found changed out of band: the next update rewrites it
HASH_ITERATIONS = 100_000

IDENTITY = "identity"
IN_PLACE = "in place"
PROVIDER = "provider rule"  # compared by the provider's own rule (its ``doc`` says which), not by the table
OUTPUT = "output"

Changed = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]


@dataclasses.dataclass(frozen=True)
class Field:
    """One input (or output) of a resource.

    ``role``: IDENTITY (a change replaces the object), IN_PLACE (a change updates it), PROVIDER (the
    provider's own rule decides, described in ``doc``) or OUTPUT (computed, never compared).
    ``changed(olds, news)`` replaces the plain comparison for fields whose stored form differs from the
    declared one (a normalised body, a secret kept as a hash). ``replaced_when(olds, news)`` marks the part
    of an in-place field that is identity (a dashboard's ``uid`` inside its JSON); ``replaced_doc`` says
    which part. ``default`` fills a missing input in ``check``; ``required`` inputs must be present.
    ``problem(value)`` says what is wrong with a known, given value (None: nothing), for ``check``.
    ``annotation``: the type the generated typed inputs give the field (``tools/generated.py``).
    """

    name: str
    role: str
    secret: bool = False
    required: bool = False
    default: Any = None
    doc: str = ""
    changed: Changed | None = None
    replaced_when: Changed | None = None
    replaced_doc: str = ""
    problem: Callable[[Any], str | None] | None = None
    annotation: str = "Any"  # the value's Python type, as the typed inputs of the resource class show it

    def differs(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        if self.changed is not None:
            return self.changed(olds, news)
        old, new = olds.get(self.name), news.get(self.name)
        return is_unknown(new) or _blank(old) != _blank(new)


def _blank(value: Any) -> Any:
    """None for an empty string: an input left out and one given as "" mean the same."""
    return None if isinstance(value, str) and not value else value


def password_in_url(name: str, value: Any) -> str | None:
    """Why ``value``, the input or key ``name``, must not be used: a URL with a password in it (state, logs
    and errors keep URLs in plain text). The message shows the URL with the password masked."""
    if not isinstance(value, str) or "@" not in value:
        return None
    try:
        parts = urllib.parse.urlsplit(value)
        password = parts.password
    except ValueError:
        return None
    if password is None:
        return None
    shown = parts._replace(netloc=f"{parts.username}:[secret]@{parts.netloc.rpartition('@')[2]}").geturl()
    return (f"{name} carries a password ({shown}): URLs are kept in plain text in state, logs and errors; "
            "give the credentials in their secret inputs instead")


def url_problem(name: str, value: Any, service: str) -> str | None:
    """Why ``value``, the URL input ``name``, cannot address ``service``: not an http(s) URL, or one with a
    password in it (:func:`password_in_url`)."""
    if not (isinstance(value, str) and value.startswith(("http://", "https://"))):
        return f"{name} must be the http(s) base URL of {service}, e.g. http://localhost:8080"
    return password_in_url(name, value)


def connection(url: str, *, secrets_: Iterable[str] = ("password",), others: Iterable[str] = ("username",),
               service: str = "the service") -> tuple[Field, ...]:
    """The connection inputs every resource has: where the API is (an http(s) URL without a password), how
    to log in, how long to wait, how to verify TLS. :func:`client_of` builds the client from them."""
    fields = [Field(url, IN_PLACE, required=True, doc=f"base URL of {service}", annotation="str",
                    problem=lambda value: url_problem(url, value, service))]
    fields += [Field(name, IN_PLACE, doc="login", annotation="str") for name in others]
    fields += [Field(name, IN_PLACE, secret=True, doc="login secret", annotation="str") for name in secrets_]
    fields.append(Field("ready_timeout", IN_PLACE, default=DEFAULT_READY_TIMEOUT, annotation="float",
                        doc="deadline of one operation, seconds"))
    fields.append(Field("probe_timeout", IN_PLACE, default=DEFAULT_PROBE_TIMEOUT, annotation="float",
                        doc="how long preview and refresh wait for the service, seconds"))
    fields.append(Field("verify", IN_PLACE, default=True, annotation="bool | str",
                        doc="TLS verification: true, false or a CA bundle path"))
    return tuple(fields)


Client = TypeVar("Client", bound=ServiceClient)
_ENDPOINT_FIELDS = tuple(f.name for f in dataclasses.fields(Endpoint) if f.name != "url")


def client_of(client_class: type[Client], props: Mapping[str, Any], url: str, **overrides: Any) -> Client:
    """The one client builder: a ``client_class`` for the service the connection inputs of ``props`` name
    (``url`` is the name of the URL input; an input left out or blank takes the Endpoint's default, then the
    client's ``endpoint_defaults``), with ``overrides``."""
    given = {name: props[name] for name in _ENDPOINT_FIELDS if props.get(name) not in (None, "")}
    return client_class(Endpoint(**{**client_class.endpoint_defaults, **given, "url": props[url], **overrides}))


class Contract:
    """The field table of one resource and the check/diff behaviour derived from it."""

    def __init__(self, resource: str, fields: Iterable[Field]):
        self.resource = resource
        self.fields = tuple(fields)
        self.by_name = {f.name: f for f in self.fields}

    def names(self, role: str) -> list[str]:
        return [f.name for f in self.fields if f.role == role]

    def secret_values(self, props: Mapping[str, Any]) -> list[str]:
        """Every text in the secret inputs of ``props`` (passwords, API keys, the values of secret maps):
        the credentials an error of this resource must never show."""
        return sorted({text for f in self.fields if f.secret and f.role != OUTPUT
                       for text in _texts(props.get(f.name)) if text}, key=len, reverse=True)

    @property
    def secret_outputs(self) -> list[str]:
        """The ``additional_secret_outputs`` of the resource class."""
        return [f.name for f in self.fields if f.secret]

    def markdown(self) -> str:
        """The field table as the docs show it (docs/resources/*.md; a unit test keeps them equal)."""
        rows = [f"| `{f.name}` | {_change(f)} | {'secret' if f.secret else ''} | {_default(f)} | {f.doc} |"
                for f in self.fields]
        return "\n".join([f"Fields of `{self.resource}`:", "",
                          "| field | a change | secret | default | what it is |", "|---|---|---|---|---|", *rows])

    def with_defaults(self, news: Mapping[str, Any]) -> dict[str, Any]:
        """``news`` with every missing (or None) input that has a default set to it."""
        filled = dict(news)
        for f in self.fields:
            if f.default is not None and filled.get(f.name) is None:
                filled[f.name] = f.default
        return filled

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[dynamic.CheckFailure]]:
        """Inputs with defaults filled, a failure for each required input that is missing and one for each
        value its field's ``problem`` refuses."""
        inputs = self.with_defaults(news)
        failures = [dynamic.CheckFailure(f.name, f"{f.name} is required" + (f" ({f.doc})" if f.doc else ""))
                    for f in self.fields if f.required and not is_unknown(inputs.get(f.name))
                    and inputs.get(f.name) in (None, "")]
        failures += [dynamic.CheckFailure(f.name, reason) for f in self.fields
                     if f.problem is not None and inputs.get(f.name) is not None and not is_unknown(inputs[f.name])
                     and (reason := f.problem(inputs[f.name]))]
        return inputs, failures

    def result(self, inputs: Mapping[str, Any], failures: Iterable[dynamic.CheckFailure]) -> dynamic.CheckResult:
        """The CheckResult of ``inputs`` with the resource's own ``failures`` and, for each input that has
        no failure of its own yet, what :meth:`check` finds (a required input missing, a field's problem)."""
        failures = list(failures)
        failed = {f.property for f in failures}
        missing = [f for f in self.check(inputs)[1] if f.property not in failed]
        return dynamic.CheckResult(dict(inputs), missing + failures)

    def changes(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """``(replaces, updates)``: the identity fields and the in-place fields that differ."""
        olds = self.with_defaults(olds)  # state written before a default existed compares as the default
        news = self.with_defaults(news)
        replaces = [f.name for f in self.fields if f.role == IDENTITY and f.differs(olds, news)
                    or f.replaced_when is not None and f.replaced_when(olds, news)]
        return replaces, [f.name for f in self.fields
                          if f.role == IN_PLACE and f.name not in replaces and f.differs(olds, news)]

    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any], *,
             delete_before_replace: bool = True) -> dynamic.DiffResult:
        replaces, updates = self.changes(olds, news)
        return dynamic.DiffResult(changes=bool(replaces or updates), replaces=replaces,
                          stables=[] if replaces else self.names(IDENTITY),
                          delete_before_replace=delete_before_replace)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def declared_part(declared: Any, live: Any) -> Any:
    """The part of ``live`` that ``declared`` names: for a mapping, its declared keys (recursively); for a
    list, element by element; else ``live`` itself. What the service adds on its own (defaults, ids,
    timestamps) is left out, so only out-of-band changes of declared values count as drift."""
    if isinstance(declared, Mapping) and isinstance(live, Mapping):
        return {key: declared_part(value, live.get(key)) for key, value in declared.items()}
    if isinstance(declared, (list, tuple)) and isinstance(live, (list, tuple)) and len(declared) == len(live):
        return [declared_part(d, v) for d, v in zip(declared, live)]
    return live


def body_changed(name: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], bool]:
    """The ``changed`` rule of a declared JSON body ``name``: unknown, or different once numbers are
    compared as numbers (the engine sends 1 as 1.0)."""
    def changed(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        new = news.get(name)
        return is_unknown(new) or whole_numbers(new) != whole_numbers(olds.get(name))
    return changed


class RedactedError(Exception):
    """An error whose text quoted a secret of the resource, re-raised with the secret replaced by ``[secret]``."""


@contextlib.contextmanager
def secrets_redacted(secrets_: Iterable[str], error: type[Exception] = RedactedError) -> Iterator[None]:
    """Re-raise any error whose text contains one of ``secrets_`` as ``error`` with each replaced by
    ``[secret]`` (and without the original as its cause): services quote what they were sent, and a
    datasource's Grafana answer may quote the Elasticsearch password the datasource carries."""
    secrets_ = list(secrets_)
    try:
        yield
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        shown = masked(text, secrets_)
        if shown == text:
            raise
        raise error(shown) from None


def _change(f: Field) -> str:
    words = {IDENTITY: "replaces", IN_PLACE: "updates in place", PROVIDER: "provider rule (see text)",
             OUTPUT: "output, not compared"}[f.role]
    return f"{words}; replaces when `{f.replaced_doc}` changes" if f.replaced_doc else words


def _default(f: Field) -> str:
    if f.required:
        return "required"
    return "" if f.default is None else f"`{f.default!r}`"


def gone() -> dynamic.ReadResult:
    """What ``read`` returns for an object that no longer exists: the engine drops it from state."""
    return dynamic.ReadResult("", {})


def refreshed(client: ServiceClient, id_: str, props: Mapping[str, Any],
              read_back: Callable[[], dict[str, Any] | None]) -> dynamic.ReadResult:
    """What ``read`` (a refresh) returns: the object as ``read_back()`` finds it (gone when None) once
    ``client.probe()`` found its service; when the service does not answer within ``probe_timeout``, the
    recorded state, kept with a warning: the infrastructure's own refresh sees a stopped or removed
    container, the same ``pulumi up`` re-creates it before the application layer (whose URLs wait for it)
    is applied, so nothing here may fail or be forgotten because the service is down."""
    try:
        client.probe()
    except ServiceUnreachable as exc:
        pulumi.log.warn(f"{exc}. Kept the recorded state of {id_}; if the service was stopped or removed, "
                        "`pulumi up` re-creates it before it applies the application layer")
        return dynamic.ReadResult(id_, dict(props))
    outs = read_back()
    return gone() if outs is None else dynamic.ReadResult(id_, outs)


class NotReadBack(Exception):
    """A service accepted a write but does not return the object when it is read back."""


def read_back_of_write(outs: dict[str, Any] | None, what: str, where: str) -> dict[str, Any]:
    """``outs`` of the read-back that ends a create or update; NotReadBack when the object is not there."""
    if outs is None:
        raise NotReadBack(f"{where} accepted {what} but does not return it when read back")
    return outs


def report_adopted(what: str, where: str, detail: str = "") -> None:
    """Say (in ``pulumi up`` output) that ``what`` already existed at ``where`` and is managed from now on."""
    pulumi.log.info(f"{what} already existed at {where}: adopted it{f' ({detail})' if detail else ''}")


def adoption(olds: Mapping[str, Any] | None, found: Callable[[], bool], what: str, where: str) -> bool:
    """The ``adopted`` output: kept from ``olds`` on update; on create (``olds`` None) whether ``found()``
    sees the object already, which is then reported."""
    if olds is not None:
        return bool(olds.get("adopted", False))
    adopted = found()
    if adopted:
        report_adopted(what, where)
    return adopted


def new_salt() -> str:
    return secrets.token_hex(16)


def secret_hash(values: Mapping[str, Any] | None, salt: str) -> str:
    """A salted, slow hash (PBKDF2-SHA256) of secret values: lets ``diff`` notice a changed secret without
    keeping it. The salt is used as text; the values as compact, key-sorted JSON."""
    payload = json.dumps(dict(values or {}), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.pbkdf2_hmac("sha256", payload, salt.encode(), HASH_ITERATIONS).hex()


def _earlier_grafana_hash(values: Mapping[str, Any] | None, salt: str) -> str | None:
    """The form the Grafana datasource stored before this module: "" without secrets, else the salt as hex
    bytes and the values as JSON with spaces."""
    if not values:
        return ""
    try:
        salt_bytes = bytes.fromhex(salt)
    except ValueError:
        return None
    data = json.dumps(dict(values), sort_keys=True).encode()
    return hashlib.pbkdf2_hmac("sha256", data, salt_bytes, HASH_ITERATIONS).hex()


def secret_unchanged(values: Mapping[str, Any] | None, salt: str | None, stored: str | None) -> bool:
    """Whether ``stored`` is the hash of ``values`` with ``salt``, in the current form or the one state
    written by an earlier release holds (so such state shows no change; the next update rewrites it)."""
    if is_unknown(values) or not salt or stored is None or stored == DRIFTED:
        return False
    return stored == secret_hash(values, salt) or stored == _earlier_grafana_hash(values, salt)


def secret_field(name: str, hash_key: str, salt_key: str, doc: str) -> Field:
    """An in-place secret input kept in state only as ``hash_key`` (salted with ``salt_key``)."""
    return Field(name, IN_PLACE, secret=True, doc=doc,
                 changed=lambda olds, news: not secret_unchanged(news.get(name) or {}, olds.get(salt_key),
                                                                  olds.get(hash_key)))


class ReadBackProvider(dynamic.ResourceProvider, abc.ABC):
    """The one provider shape of objects addressed by an id: ``check`` (``normalised`` inputs, required
    inputs, then the provider's ``problems``) and ``diff`` from the field table, ``create`` and ``update``
    through ``write`` (which ends with the read-back), ``read`` through the same read-back
    (:func:`refreshed`: a short wait), ``delete`` by id; each after waiting until the service is ready."""

    contract: Contract
    id_output: str  # the output that is the object's id
    delete_before_replace = True  # False: a replacement is created before the old object is deleted
    redacted_error: type[Exception] = RedactedError  # what an error that quoted a secret is re-raised as

    def normalised(self, news: dict[str, Any]) -> dict[str, Any]:
        """The inputs as the provider keeps them: defaults filled (a provider may also bring values into the
        form its service stores, e.g. Connect's string maps)."""
        return self.contract.with_defaults(news)

    def problems(self, news: dict[str, Any]) -> list[dynamic.CheckFailure]:
        """Reasons the inputs (defaults filled) are not usable, found without the network, beyond what each
        field's ``problem`` finds (none by default)."""
        return []

    @abc.abstractmethod
    def write(self, props: dict[str, Any], olds: dict[str, Any] | None) -> dict[str, Any]:
        """Create (``olds`` None: adopting an object that exists) or update the object; return the outputs
        its read-back gives."""

    client_class: type[ServiceClient]  # the kind's service client
    url_input: str  # the connection input that is the service's URL

    def client(self, props: Mapping[str, Any]) -> Any:
        """A service client for the service ``props`` name (:func:`client_of`)."""
        return client_of(self.client_class, props, self.url_input)

    @abc.abstractmethod
    def read_back(self, client: Any, id_: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The object as the service has it, in the shape of the outputs; None when it does not exist."""

    @abc.abstractmethod
    def delete_object(self, client: Any, id_: str) -> None:
        """Delete the object (nothing when it is gone already)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.CheckResult:
        inputs = self.normalised(news)
        return self.contract.result(inputs, self.problems(inputs))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return self.contract.diff(olds, news, delete_before_replace=self.delete_before_replace)

    def redacted(self, props: Mapping[str, Any]) -> contextlib.AbstractContextManager[None]:
        """No error of the block shows a secret input of ``props`` (:func:`secrets_redacted`)."""
        return secrets_redacted(self.contract.secret_values(props), self.redacted_error)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        with self.redacted(props):
            outs = self.write(props, None)
        return dynamic.CreateResult(outs[self.id_output], outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        with self.redacted(news):
            return dynamic.UpdateResult(self.write(news, olds))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        with self.redacted(props), self.client(props) as client:
            return refreshed(client, id_, props, lambda: self.read_back(client, id_, props))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.redacted(props), self.client(props) as client:
            client.wait_ready()
            self.delete_object(client, id_)
