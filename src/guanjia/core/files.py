"""Uploaded files: names safe to store, and responses safe to send back.

A file name comes from whoever uploaded it and may carry a path (`../../etc/passwd`, `C:\\x`),
control characters, a NUL byte, hundreds of characters or a second extension
(`photo.jpg.html`). `safe_file_name` keeps only a plain last component, short enough for the
storage's path column. `file_download` streams a stored file through the caller's permission
check and never lets the browser treat it as a page: only common picture types are shown
inline, under their own type; everything else is a download of `application/octet-stream`, with
`nosniff` and a sandboxing Content-Security-Policy either way.
"""

import posixpath
import unicodedata
from pathlib import PurePosixPath

from django.http import FileResponse, Http404

# Pictures a browser shows but cannot execute. SVG is left out on purpose: it can carry script.
INLINE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
DOWNLOAD_TYPE = "application/octet-stream"
MAX_NAME_LENGTH = 80


def safe_file_name(name: str | None, *, default: str = "file") -> str:
    """The last path component of `name` without control characters, at most MAX_NAME_LENGTH long.

    >>> safe_file_name("../../etc/passwd")
    'passwd'
    >>> safe_file_name("C:\\\\photos\\\\a\\x00b.jpg")
    'ab.jpg'
    """
    name = (name or "").replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    # A leading dot would hide the file; only dots and spaces is no name at all.
    name = name.lstrip(". ")
    if not name:
        return default
    if len(name) > MAX_NAME_LENGTH:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if 1 < len(suffix) <= 10 else ""
        name = name[: MAX_NAME_LENGTH - len(suffix)].rstrip(". ") + suffix
    return name or default


def content_type_for(name: str) -> str:
    """The type to send a stored file as: a picture type for picture extensions, else a download."""
    return INLINE_TYPES.get(PurePosixPath(name or "").suffix.lower(), DOWNLOAD_TYPE)


def file_download(field_file, name: str) -> FileResponse:
    """Stream a stored file (already permission-checked by the caller); a missing file is a 404."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    display = safe_file_name(name or field_file.name)
    content_type = content_type_for(field_file.name)
    inline = content_type != DOWNLOAD_TYPE
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=display)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
