"""API schemas of the organisation."""

from datetime import date

from ninja import Field, Schema

from guanjia.core.schemas import FilterInput, InputSchema, null_clears


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    company_id: int
    company_name: str = Field(..., alias="company.name")
    address: str
    property_company: str
    delivered_on: date | None


class ProjectFilters(FilterInput):
    company: int | None = Field(None, description="City company id.")
    q: str | None = Field(None, description="Part of the project's name or code.")


class ProjectIn(InputSchema):
    company: int = Field(..., description="City company id.")
    name: str = Field(..., min_length=1, max_length=100, examples=["绿色家园"])
    code: str = Field(..., min_length=1, max_length=30, pattern=r"^[-a-zA-Z0-9_]+$", examples=["lsjy"])
    address: str = Field("", max_length=200)
    property_company: str = Field("", max_length=100)
    delivered_on: date | None = None


class ProjectPatch(InputSchema):
    company: int | None = Field(None, description="City company id.")
    name: str | None = Field(None, min_length=1, max_length=100)
    code: str | None = Field(None, min_length=1, max_length=30, pattern=r"^[-a-zA-Z0-9_]+$")
    address: str | None = Field(None, max_length=200)
    property_company: str | None = Field(None, max_length=100)
    delivered_on: date | None = None

    _null_clears = null_clears("address", "property_company")
