"""The resource class of a kind, derived from its field table: a kind is declared in one place.

:func:`declare` turns a :class:`~providers.contract.Contract` and its provider class into a
``pulumi.dynamic.Resource`` subclass with

- one keyword argument per input of the table (required ones have no default; the others default to the
  table's default), checked when the resource is constructed (an unknown or missing input is a TypeError
  naming it);
- every secret input wrapped as a Pulumi secret whatever the caller passes (a plain string too), so state
  never holds it in clear;
- every output of the table declared as a property (None until the provider fills it) and annotated as a
  ``pulumi.Output``;
- the table's secret fields as ``additional_secret_outputs``;
- the type token ``pulumi-python:dynamic/<module>:<name>``.
"""
from __future__ import annotations

import inspect
import types
from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from providers.contract import OUTPUT, Contract


class DeclaredResource(Resource):
    """Base of the derived classes: ``contract`` is the kind's field table."""

    contract: Contract

    if TYPE_CHECKING:
        def __init__(self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None,
                     **inputs: Any) -> None: ...


def declare(contract: Contract, provider: type[ResourceProvider], *, module: str, name: str, doc: str,
            class_name: str | None = None) -> type[DeclaredResource]:
    """The resource class of ``contract`` (named ``class_name``, by default the table's resource name), served
    by ``provider()``, with type token ``pulumi-python:dynamic/<module>:<name>`` and ``doc`` (the inputs and
    outputs are appended from the table). It lives in the provider's module."""
    inputs = [f for f in contract.fields if f.role != OUTPUT]
    outputs = [f.name for f in contract.fields if f.role == OUTPUT]
    secrets = {f.name for f in inputs if f.secret}
    signature = inspect.Signature([
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("resource_name", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
        *(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY,
                            default=inspect.Parameter.empty if f.required else f.default) for f in inputs),
        inspect.Parameter("opts", inspect.Parameter.KEYWORD_ONLY, default=None)])

    def __init__(self: DeclaredResource, resource_name: str, *, opts: pulumi.ResourceOptions | None = None,
                 **given: Any) -> None:
        try:
            bound = signature.bind(self, resource_name, opts=opts, **given)
        except TypeError as exc:
            raise TypeError(f"{name} {resource_name!r}: {exc} (inputs of {contract.resource}: "
                            f"{', '.join(f.name for f in inputs)})") from None
        bound.apply_defaults()
        props: dict[str, Any] = {f.name: _plain_container(bound.arguments[f.name]) for f in inputs}
        props.update({key: pulumi.Output.secret(value) for key, value in props.items()
                      if key in secrets and value is not None})
        props.update(dict.fromkeys(outputs))
        options = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            additional_secret_outputs=contract.secret_outputs))
        Resource.__init__(self, provider(), resource_name, props, options)

    __init__.__signature__ = signature  # type: ignore[attr-defined]  # help() and inspect show the inputs

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__init__=__init__, contract=contract, __doc__=_doc(doc, contract),
                         __annotations__={f.name: pulumi.Output[Any] for f in contract.fields},
                         __qualname__=class_name or contract.resource, __module__=provider.__module__)

    return types.new_class(class_name or contract.resource, (DeclaredResource,), {"module": module, "name": name},
                           body)


def _plain_container(value: Any) -> Any:
    """A mapping given as an input, as a dict (the form Pulumi serializes)."""
    return dict(value) if isinstance(value, Mapping) else value


def _doc(doc: str, contract: Contract) -> str:
    def listing(fields: list[str]) -> str:
        return ", ".join(f"``{name}``" for name in fields) or "none"

    inputs = [f.name + (" (secret)" if f.secret else "") for f in contract.fields if f.role != OUTPUT]
    outputs = [f.name for f in contract.fields if f.role == OUTPUT]
    return (f"{inspect.cleandoc(doc)}\n\nInputs: {listing(inputs)}. Outputs: {listing(outputs)}. "
            f"Field table: ``{contract.resource}``.")

