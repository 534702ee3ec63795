"""API schemas of the hotline: the call system's event and the call as the API shows it."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from guanjia.core.schemas import FilterInput, InputSchema

from .choices import CallState


class CallEventIn(InputSchema):
    """One event of the call system. Unknown fields are refused (422)."""

    call_id: str = Field(..., max_length=64, description="The call system's id of the call, unique per call.")
    event: Literal["ringing", "answered", "ended", "recording"]
    at: datetime | None = Field(None, description="When it happened (ISO 8601; without offset: Beijing time).")
    caller: str = Field("", max_length=40, description="Caller's number as the call system has it.")
    callee: str = Field("", max_length=32, description="The number called: a configured hotline line.")
    agent: str = Field("", max_length=32, description="Extension or agent id of the agent whose phone rings.")
    duration: int | None = Field(None, ge=0, description="Talk time in seconds (ended).")
    recording_url: str = Field("", max_length=500, description="http(s) address of the recording.")


class CallOut(Schema):
    id: int
    call_id: str = Field(..., alias="provider_call_id")
    state: CallState
    caller: str = Field(..., description="Normalised caller number, masked unless the role sees whole numbers.")
    callee: str
    line: int | None = Field(None, alias="line_id")
    project: int | None = Field(None, alias="project_id")
    agent: str | None = None
    agent_extension: str
    party: int | None = Field(None, alias="party_id")
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    recording_url: str
    cases: list[int] = []
    recorded: bool = Field(True, description="False when this event had been received before: nothing changed.")

    @staticmethod
    def resolve_agent(obj) -> str | None:
        return obj.agent.username if obj.agent_id else None

    @staticmethod
    def resolve_caller(obj, context) -> str:
        from guanjia.estate.identity import mask_phone
        from guanjia.org.permissions import can

        request = (context or {}).get("request")
        user = getattr(request, "user", None)
        return obj.caller if can(user, "phone", "view_full") else mask_phone(obj.caller)

    @staticmethod
    def resolve_cases(obj) -> list[int]:
        return sorted(link.case_id for link in obj.case_links.all())

    @staticmethod
    def resolve_recorded(obj) -> bool:
        return getattr(obj, "recorded_now", True)


class CallFilters(FilterInput):
    project: int | None = None
    state: CallState | None = None
    agent: int | None = None
