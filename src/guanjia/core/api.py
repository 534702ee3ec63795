"""The REST API at /api/v1/: one NinjaAPI, routers added by the domain apps."""

from ninja import NinjaAPI

api = NinjaAPI(title="Guanjia API", version="1", urls_namespace="api", docs_url="/docs")
