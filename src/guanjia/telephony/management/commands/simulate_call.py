"""Ring an agent's console as the call system would: `guanjia simulate_call frontdesk_lsjy [--caller 13812345678]`.

For demos and trying the screen-pop without a call system. It configures what is missing (a line
for the agent's project, an extension for the agent) and posts a "ringing" event through the
same service as the API, acting as a group administrator. `--end` hangs the call up again.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from guanjia.estate.models import Party
from guanjia.org.choices import Role, ScopeLevel
from guanjia.org.models import Staff
from guanjia.telephony.models import Call, HotlineAgent, HotlineLine
from guanjia.telephony.services import do_record_call_event


class Command(BaseCommand):
    help = "Post a ringing call for an agent (demo and testing aid)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The agent whose console should ring.")
        parser.add_argument(
            "--caller", default="", help="Caller's number (default: a customer of the agent's project)."
        )
        parser.add_argument("--end", action="store_true", help="End the agent's ringing or answered calls instead.")

    def handle(self, *args, **options):
        agent = Staff.objects.filter(username=options["username"], is_active=True).first()
        if agent is None:
            raise CommandError(f"There is no active staff member {options['username']!r}.")
        if not agent.project_id:
            raise CommandError("The agent needs a project scope (the line is the project's).")
        system = Staff.objects.filter(
            Q(is_superuser=True) | Q(role=Role.ADMIN, scope_level=ScopeLevel.GROUP), is_active=True
        ).first()
        if system is None:
            raise CommandError("No active group administrator to act as the call system.")
        if options["end"]:
            for call in Call.objects.filter(agent=agent, state__in=["ringing", "answered"]):
                do_record_call_event(system, call_id=call.provider_call_id, event="ended")
                self.stdout.write(f"ended {call.provider_call_id}")
            return
        project = agent.project
        line = HotlineLine.objects.filter(project=project, active=True).first()
        if line is None:
            line = HotlineLine.objects.create(
                number=f"0109{project.pk:07d}", name=f"{project.name}服务中心", company=project.company, project=project
            )
        mapping = HotlineAgent.objects.filter(staff=agent).first()
        if mapping is None:
            mapping = HotlineAgent.objects.create(extension=f"demo-{agent.pk}", staff=agent)
        caller = options["caller"]
        if not caller:
            party = Party.objects.filter(project=project, occupancies__isnull=False).exclude(phone="").first()
            caller = party.phone if party else "13800000000"
        call, _created = do_record_call_event(
            system,
            call_id=f"demo-{uuid.uuid4().hex[:12]}",
            event="ringing",
            caller=caller,
            callee=line.number,
            agent=mapping.extension,
        )
        self.stdout.write(f"ringing {call.provider_call_id}: {caller} → {line.number} → {agent.username}")
