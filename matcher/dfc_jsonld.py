"""JSON-LD in and out for the Data Food Consortium mapping (:mod:`matcher.dfc`): text to an RDF graph, a
graph to compacted JSON-LD, without the network.

DFC documents name their context by URL (``https://www.datafoodconsortium.org``,
``https://w3id.org/dfc/ontology/context/context_2.0.0.json``, ...). Those contexts are vendored in
``matcher/dfc_contexts/`` (from the Data Food Consortium's ``wordpress-context-jsonld``, MIT) and served by
:func:`document_loader`, which refuses every other URL: reading a document never touches the network, and
a document naming a context we do not hold is refused with its URL (an :class:`InputError`, 422 at the
service, exit 2 at the command line).
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from importlib import resources
from typing import Any

from rdflib import RDF, XSD, BNode, Graph, Literal
from rdflib.term import Node

from harvestmatch.errors import InputError, Problem

#: the DFC context versions we hold, newest last
VERSIONS = ("1.16.0", "2.0.0")

#: every context URL we serve, and the version it names. The 1.16 aliases are the Ruby connector's
#: (``DataFoodConsortium::Connector::Context``); the site's root serves the newest context.
CONTEXT_URLS: dict[str, str] = {
    "https://w3id.org/dfc/ontology/context/context_1.16.0.json": "1.16.0",
    "http://w3id.org/dfc/ontology/context/context_1.16.0.json": "1.16.0",
    "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_1.16.0.jsonld": "1.16.0",
    "http://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_1.16.0.jsonld": "1.16.0",
    "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context.jsonld": "1.16.0",
    "http://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context.jsonld": "1.16.0",
    "http://static.datafoodconsortium.org/ontologies/context.json": "1.16.0",
    "https://www.datafoodconsortium.org": "1.16.0",
    "https://www.datafoodconsortium.org/": "1.16.0",
    "http://www.datafoodconsortium.org": "1.16.0",
    "http://www.datafoodconsortium.org/": "1.16.0",
    "https://w3id.org/dfc/ontology/context/context_2.0.0.json": "2.0.0",
    "http://w3id.org/dfc/ontology/context/context_2.0.0.json": "2.0.0",
    "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_2.0.0.jsonld": "2.0.0",
    "http://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/context_2.0.0.jsonld": "2.0.0",
}

#: the URL an exported document names for each version (the one Open Food Network answers with)
EXPORT_URLS: dict[str, str] = {v: f"https://w3id.org/dfc/ontology/context/context_{v}.json" for v in VERSIONS}


class RemoteDocument(Exception):
    """A document asked for a URL we do not hold (turned into an InputError)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def parse_jsonld(text: str | bytes, *, source: str) -> Graph:
    """The RDF graph of a JSON-LD document, its contexts served locally.

    Every ``@context`` that names a URL, at any depth, is replaced by the vendored context it names
    before the document reaches rdflib's JSON-LD parser (:func:`document_loader`), so the parser never
    has a URL to fetch.

    Parameters
    ----------
    text
        The document (UTF-8 when bytes).
    source
        The name messages give the document (a file name, ``body``).

    Raises
    ------
    InputError
        The text is not JSON, not JSON-LD, names a context we do not hold, or holds named graphs.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(Problem(source, None, None, f"not valid JSON: {exc}")) from None
    if not isinstance(document, (dict, list)):
        raise InputError(Problem(source, None, None, "expected a JSON-LD document (an object or an array)"))
    named = _named_graph(document)
    if named is not None:
        raise InputError(Problem(source, None, "@graph", f"the document holds a named graph ({named}): send its nodes in the default graph"))
    try:
        resolved = json.dumps(_local_contexts(document))
    except RemoteDocument as exc:
        raise InputError(Problem(source, None, "@context", _remote_message(exc.url))) from None
    except RecursionError:
        raise InputError(Problem(source, None, None, "the JSON-LD is nested too deeply")) from None
    graph = Graph()
    try:
        with warnings.catch_warnings():
            # rdflib 7's own JSON-LD parser uses its deprecated ConjunctiveGraph inside: not ours to fix
            warnings.simplefilter("ignore", DeprecationWarning)
            graph.parse(data=resolved, format="json-ld")
    except RecursionError:
        raise InputError(Problem(source, None, None, "the JSON-LD is nested too deeply")) from None
    except Exception as exc:  # rdflib's parser fails on a malformed document with any of many types
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise InputError(Problem(source, None, None, f"invalid JSON-LD: {type(exc).__name__}{': ' + first if first else ''}")) from None
    return graph


def to_jsonld(graph: Graph, *, version: str) -> dict[str, Any]:
    """The graph as compacted JSON-LD naming the DFC context of ``version`` by URL: one flat node object
    per subject in ``@graph``, ordered by ``@id``, each value compacted with the context's prefixes and
    its ``@id`` coercions, arrays in a fixed order (the same graph, the same bytes).

    Flat nodes need only the context's prefixes and which properties take IRIs, so they are written here
    (a general JSON-LD compaction of thousands of nodes against DFC's context takes minutes in pyld, and
    rdflib's loses blank nodes that a property coerced to ``@id`` points to).
    """
    if version not in EXPORT_URLS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    context = _context(version)["@context"]
    prefixes = sorted(((ns, name) for name, ns in context.items() if isinstance(ns, str) and ns.endswith(("#", "/"))), key=lambda p: -len(p[0]))
    to_iri = {name for name, term in context.items() if isinstance(term, dict) and term.get("@type") == "@id"}

    def compact(node: Node) -> str:
        if isinstance(node, BNode):
            return f"_:{node}"
        text = str(node)
        for ns, name in prefixes:
            if text.startswith(ns) and len(text) > len(ns):
                return f"{name}:{text[len(ns) :]}"
        return text

    nodes: dict[Node, dict[str, list[Any]]] = {}
    for subject, predicate, obj in graph:
        values = nodes.setdefault(subject, {})
        if predicate == RDF.type:
            values.setdefault("@type", []).append(compact(obj))
            continue
        key = compact(predicate)
        if isinstance(obj, Literal):
            value: Any = _literal(obj, compact)
        elif key in to_iri:
            value = compact(obj)
        else:
            value = {"@id": compact(obj)}
        values.setdefault(key, []).append(value)
    out = []
    for subject, values in nodes.items():
        node: dict[str, Any] = {"@id": compact(subject)}
        for key in sorted(values):
            listed = sorted(values[key], key=lambda v: json.dumps(v, sort_keys=True))
            node[key] = listed[0] if len(listed) == 1 else listed
        out.append(node)
    return {"@context": EXPORT_URLS[version], "@graph": sorted(out, key=lambda n: str(n["@id"]))}


def _literal(value: Literal, compact: Any) -> Any:
    """A literal as JSON-LD: integers, doubles and booleans as JSON natives (which read back as the same
    XML Schema types), plain strings as strings, the rest as value objects."""
    if value.language:
        return {"@value": str(value), "@language": value.language}
    if value.datatype in (None, XSD.string):
        return str(value)
    native = value.toPython()
    if value.datatype == XSD.integer and isinstance(native, int) and not isinstance(native, bool):
        return native
    if value.datatype == XSD.double and isinstance(native, float) and math.isfinite(native):
        return native
    if value.datatype == XSD.boolean and isinstance(native, bool):
        return native
    return {"@value": str(value), "@type": compact(value.datatype)}


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-LD document loader (the interface of pyld's ``documentLoader``): the vendored DFC contexts
    by their URLs; any other URL is refused (:class:`RemoteDocument`)."""
    version = CONTEXT_URLS.get(url)
    if version is None:
        raise RemoteDocument(url)
    return {"contextUrl": None, "documentUrl": url, "document": _context(version)}


def _local_contexts(node: Any) -> Any:
    """The document with every ``@context`` URL replaced by the context it names; an ``@import`` of a
    URL is refused as a context URL is."""
    if isinstance(node, list):
        return [_local_contexts(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "@context":
            value = [_one_context(v) for v in value] if isinstance(value, list) else _one_context(value)
        elif key == "@import" and isinstance(value, str):
            raise RemoteDocument(value)
        out[key] = _local_contexts(value)
    return out


def _named_graph(document: Any) -> str | None:
    """The ``@id`` (or ``_:``) of a named graph in the document: an object with ``@graph`` other than
    the document's own top level without an ``@id``."""
    stack = [(document, True)]
    while stack:
        node, top = stack.pop()
        if isinstance(node, list):
            stack += [(v, top and isinstance(document, list)) for v in node]
        elif isinstance(node, dict):
            if "@graph" in node and not (top and "@id" not in node):
                return str(node.get("@id", "_:"))
            stack += [(v, False) for k, v in node.items() if k != "@context"]
    return None


def _one_context(value: Any) -> Any:
    if isinstance(value, str):
        return document_loader(value)["document"]["@context"]
    return value


def _remote_message(url: str) -> str:
    known = ", ".join(sorted(u for u in CONTEXT_URLS if u.startswith("https://w3id.org")))
    return f"the context {url!r} is not one this service holds (it loads no remote documents; known DFC contexts include {known})"


@cache
def _context(version: str) -> dict[str, Any]:
    text = resources.files("matcher").joinpath("dfc_contexts", f"context_{version}.jsonld").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
