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
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld
from rdflib import Graph

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
    """A document asked for a URL we do not hold (raised inside pyld, turned into an InputError)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def parse_jsonld(text: str | bytes, *, source: str) -> Graph:
    """The RDF graph of a JSON-LD document, its contexts served locally.

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
    try:
        nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        column, message = _jsonld_problem(exc)
        raise InputError(Problem(source, None, column, message)) from None
    except RecursionError:
        raise InputError(Problem(source, None, None, "the JSON-LD is nested too deeply")) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        # pyld checks much of a document's shape by using it: a value of the wrong JSON type (a number
        # as "@id", an object as "@type") fails inside it as one of these
        raise InputError(Problem(source, None, None, f"invalid JSON-LD: {type(exc).__name__}: {str(exc)[:200]}")) from None
    graph = Graph()
    try:
        graph.parse(data=nquads, format="nt")
    except Exception as exc:  # rdflib's parsers raise their own types; any is a defect of the input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(Problem(source, None, None, f"the JSON-LD holds named graphs or triples RDF cannot take: {first}")) from None
    return graph


def to_jsonld(graph: Graph, *, version: str) -> dict[str, Any]:
    """The graph as a compacted JSON-LD document naming the DFC context of ``version`` by URL: one
    ``@graph`` of nodes, ordered by their ``@id`` (blank nodes are embedded where they are used once)."""
    if version not in EXPORT_URLS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    nquads = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    expanded = jsonld.from_rdf(nquads, {"format": "application/n-quads", "useNativeTypes": True})
    options = {"documentLoader": document_loader}
    compacted: dict[str, Any] = jsonld.compact(expanded, EXPORT_URLS[version], options)
    nodes = compacted.get("@graph", [{k: v for k, v in compacted.items() if k != "@context"}] if len(compacted) > 1 else [])
    return {"@context": EXPORT_URLS[version], "@graph": sorted(nodes, key=lambda n: str(n.get("@id", "")))}


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's document loader: the vendored DFC contexts by their URLs; any other URL is refused."""
    version = CONTEXT_URLS.get(url)
    if version is None:
        raise RemoteDocument(url)
    return {"contextUrl": None, "documentUrl": url, "document": _context(version)}


@cache
def _context(version: str) -> dict[str, Any]:
    text = resources.files("matcher").joinpath("dfc_contexts", f"context_{version}.jsonld").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _jsonld_problem(exc: BaseException) -> tuple[str | None, str]:
    """What was wrong with the document: our refusal of a remote URL, else the innermost pyld error's
    message and code (the outer ones only say which step failed)."""
    seen: BaseException | None = exc
    innermost = exc
    while seen is not None:
        if isinstance(seen, RemoteDocument):
            known = ", ".join(sorted(u for u in CONTEXT_URLS if u.startswith("https://w3id.org")))
            return "@context", f"the context {seen.url!r} is not one this service holds (it loads no remote documents; known DFC contexts include {known})"
        if isinstance(seen, jsonld.JsonLdError):
            innermost = seen
        seen = seen.__cause__ or seen.__context__
    message = str(innermost.args[0]) if innermost.args else type(innermost).__name__
    code = getattr(innermost, "code", None)
    return None, f"invalid JSON-LD: {message}" + (f" ({code})" if code else "")
