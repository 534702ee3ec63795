"""Uploaded files go to an S3-compatible bucket when GUANJIA_S3_BUCKET is set, else to var/media."""

import runpy
from urllib.parse import parse_qs, urlsplit

from django.utils.module_loading import import_string


def load_settings(monkeypatch, tmp_path, **env) -> dict:
    import guanjia.settings

    for name in ("GUANJIA_S3_BUCKET", "AWS_S3_ENDPOINT_URL", "AWS_S3_ADDRESSING_STYLE", "GUANJIA_S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GUANJIA_VAR_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(guanjia.settings.__file__)


def test_files_stay_on_the_local_disk_by_default(monkeypatch, tmp_path):
    conf = load_settings(monkeypatch, tmp_path)
    assert conf["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert conf["MEDIA_ROOT"] == tmp_path / "media"


def test_a_bucket_switches_uploads_to_s3(monkeypatch, tmp_path):
    conf = load_settings(
        monkeypatch,
        tmp_path,
        GUANJIA_S3_BUCKET="guanjia-files",
        AWS_S3_ENDPOINT_URL="https://minio.internal:9000",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_ACCESS_KEY_ID="guanjia",
        AWS_SECRET_ACCESS_KEY="not-a-real-secret",
    )
    default = conf["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert options["bucket_name"] == "guanjia-files"
    assert options["endpoint_url"] == "https://minio.internal:9000"
    assert options["location"] == "media"
    # Private objects, never overwritten: two photos called IMG_0001.jpg both survive.
    assert options["default_acl"] is None and options["querystring_auth"] and not options["file_overwrite"]
    # Static files are unaffected: whitenoise serves them from the web process.
    assert "whitenoise" in conf["STORAGES"]["staticfiles"]["BACKEND"]

    # django-storages accepts the options; a signed URL is computed locally, with no request to the store.
    storage = import_string(default["BACKEND"])(**options)
    url = urlsplit(storage.url("cases/2025/10/photo.jpg"))
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "minio.internal:9000",
        "/guanjia-files/media/cases/2025/10/photo.jpg",
    )
    assert "X-Amz-Signature" in parse_qs(url.query)
