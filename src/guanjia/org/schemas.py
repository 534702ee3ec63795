"""API schemas of the organisation."""

from datetime import date

from ninja import Field, Schema


class ProjectOut(Schema):
    id: int
    code: str
    name: str
    company_id: int
    company_name: str = Field(..., alias="company.name")
    address: str
    property_company: str
    delivered_on: date | None


class ProjectFilters(Schema):
    company: int | None = Field(None, description="City company id.")
    q: str | None = Field(None, description="Part of the project's name or code.")
