"""Photos owners upload: checked, decoded and re-encoded on the server, so that what is stored is a
plain JPEG without EXIF (no GPS position, no camera serial, no thumbnail of the original).

The browser already shrinks photos (`static/portal/portal.js`: canvas → JPEG), but the server
trusts nothing it receives: every file must be an image Pillow can decode (JPEG, PNG, WebP, GIF),
no larger than `GUANJIA_PORTAL_MAX_PHOTO_BYTES` nor `GUANJIA_PORTAL_MAX_PHOTO_PIXELS`; it is turned
upright by its EXIF orientation, scaled to at most `GUANJIA_PORTAL_PHOTO_EDGE` pixels on the long
side and saved anew. Any bad file refuses the whole upload, naming the photo, before anything is stored.
"""

import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from . import conf

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "MPO"})
JPEG_QUALITY = 85


def clean_photos(files, *, field: str = "photos") -> list[ContentFile]:
    """Re-encoded JPEGs for the uploaded files, or a ValidationError on `field` naming each bad photo."""
    files = [f for f in files or [] if f is not None]
    limit = conf.get("GUANJIA_PORTAL_MAX_PHOTOS")
    if len(files) > limit:
        raise ValidationError({field: _("Add at most %(limit)s photos.") % {"limit": limit}})
    errors, cleaned = [], []
    for n, upload in enumerate(files, start=1):
        try:
            cleaned.append(_reencode(upload, n))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})
    return cleaned


def _reencode(upload, n: int) -> ContentFile:
    max_bytes = conf.get("GUANJIA_PORTAL_MAX_PHOTO_BYTES")
    if upload.size > max_bytes:
        raise ValidationError(
            _("Photo %(n)s is too large (%(size)s); the limit is %(limit)s.")
            % {"n": n, "size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes)}
        )
    not_image = _("Photo %(n)s is not a picture; choose a JPEG, PNG or WebP photo.") % {"n": n}
    max_pixels = conf.get("GUANJIA_PORTAL_MAX_PHOTO_PIXELS")
    upload.seek(0)
    data = upload.read()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise ValidationError(not_image)
                if probe.width * probe.height > max_pixels:
                    raise ValidationError(_("Photo %(n)s has too many pixels.") % {"n": n})
                probe.verify()
            # verify() leaves the image unusable; decode again for real.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                if image.mode not in ("RGB", "L"):
                    image = _flatten(image)
                edge = conf.get("GUANJIA_PORTAL_PHOTO_EDGE")
                image.thumbnail((edge, edge), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                # Saved without exif=, icc_profile= or xmp=, and with the source's own metadata (a JPEG
                # comment would otherwise be copied) dropped, the new file carries pixels only.
                image.info = {}
                image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as exc:
        raise ValidationError(not_image) from exc
    return ContentFile(out.getvalue(), name=f"photo-{n}.jpg")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on a white background: JPEG has no transparency (PNG screenshots, GIFs)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
