"""htmx requests: which of them want a fragment of the page rather than the whole page."""


def is_htmx(request) -> bool:
    """An htmx request for part of a page (a filter refresh, a panel). A boosted link wants the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")
