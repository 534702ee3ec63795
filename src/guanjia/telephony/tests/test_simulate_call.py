"""The demo aid `guanjia simulate_call` rings an agent through the same service as the API."""

from django.core.management import call_command

from guanjia.telephony.choices import CallState
from guanjia.telephony.models import Call, HotlineAgent


def test_simulate_call_rings_and_ends(world):
    call_command("simulate_call", "specialist", "--caller", "+86 138 1234 5678")
    call = Call.objects.get()
    assert call.agent == world.specialist and call.party == world.owner_a and call.state == CallState.RINGING
    assert HotlineAgent.objects.get(staff=world.specialist)
    call_command("simulate_call", "specialist", "--end")
    call.refresh_from_db()
    assert call.state == CallState.MISSED
