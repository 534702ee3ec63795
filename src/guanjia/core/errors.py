"""Errors shared by services, views and the API."""

from django.core.exceptions import PermissionDenied, ValidationError


def require(allowed: bool, message: str = "") -> None:
    """Raise PermissionDenied unless `allowed`; services call this before any write."""
    if not allowed:
        raise PermissionDenied(message)


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """{"field": ["message", …]} from a ValidationError, with "__all__" for non-field errors."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}
