"""The unit ledger: buildings, entrances, units, parties (owners, residents, tenants) and tags."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanjia.core.models import TimeStampedModel
from guanjia.org.models import Area, Project

from .choices import ContactChannel, Gender, OccupancyRole, PartyKind, UnitKind, UnitStatus


class Building(TimeStampedModel):
    """A building (楼栋) of a project, e.g. "3栋"; optionally part of a butler's area."""

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="buildings")
    name = models.CharField(_("name"), max_length=30)
    number = models.PositiveIntegerField(_("number"), default=0, help_text=_("Used to sort buildings."))
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["project_id", "number", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="building_name_unique_in_project")]

    def __str__(self) -> str:
        return f"{self.project.name} {self.name}"


class Entrance(models.Model):
    """A unit entrance (单元) of a building, e.g. "2单元"."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="entrances"
    )
    name = models.CharField(_("name"), max_length=30)
    number = models.PositiveSmallIntegerField(_("number"), default=0)

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        ordering = ["building_id", "number"]
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="entrance_name_unique_in_building")]

    def __str__(self) -> str:
        return self.name


class Unit(TimeStampedModel):
    """A unit (户/房号): a residence, shop, parking space or villa, shown as 3栋2单元1502.

    `project` repeats `building.project` so that scoping a million units needs no join.
    """

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="units")
    entrance = models.ForeignKey(
        Entrance,
        verbose_name=_("entrance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
    )
    floor = models.SmallIntegerField(_("floor"), default=1)
    number = models.CharField(_("room number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=12, choices=UnitKind.choices, default=UnitKind.RESIDENCE)
    floor_area = models.DecimalField(_("floor area (m²)"), max_digits=9, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=UnitStatus.choices, default=UnitStatus.UNSOLD)
    handed_over_on = models.DateField(_("handover date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building_id", "entrance_id", "floor", "number"]
        # Two partial constraints rather than one with nulls_distinct=False, which SQLite lacks:
        # villas and parking spaces have no entrance, and their numbers are unique per building.
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "number"],
                condition=models.Q(entrance__isnull=False),
                name="unit_number_unique_in_entrance",
            ),
            models.UniqueConstraint(
                fields=["building", "number"],
                condition=models.Q(entrance__isnull=True),
                name="unit_number_unique_without_entrance",
            ),
        ]
        indexes = [models.Index(fields=["project", "status"]), models.Index(fields=["number"])]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """3栋2单元1502 — the way staff and owners say it."""
        entrance = self.entrance.name if self.entrance_id else ""
        return f"{self.building.name}{entrance}{self.number}"

    @property
    def full_label(self) -> str:
        return f"{self.project.name} {self.label}"


class Tag(models.Model):
    """A label on a party, e.g. 重点客户, 孤寡老人, 困难户, 沉默客户, VIP."""

    name = models.CharField(_("name"), max_length=20, unique=True)
    colour = models.CharField(_("colour"), max_length=20, default="blue")
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Party(TimeStampedModel):
    """An owner, resident or tenant (业主/住户/租户): a person or an organisation.

    Units are linked through `Occupancy`. `project` is where the party was registered, so a
    party not (yet) linked to a unit still has a scope. The ID-card number is stored
    encrypted (`id_number_encrypted`), with a keyed digest for duplicate checks and a masked
    form for display; see `guanjia.estate.identity`.
    """

    HISTORY_EXCLUDE = (
        "id_number_encrypted",
        "id_number_digest",
        "name_pinyin",
        "name_initials",
        "phone_tail",
    )

    kind = models.CharField(_("kind"), max_length=12, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(max_length=300, blank=True, db_index=True)
    name_initials = models.CharField(max_length=50, blank=True, db_index=True)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("Mainland mobile or landline."))
    phone_tail = models.CharField(max_length=4, blank=True, db_index=True)
    phone2 = models.CharField(_("second phone"), max_length=20, blank=True)
    id_number_encrypted = models.TextField(blank=True)
    id_number_digest = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    project = models.ForeignKey(
        Project, verbose_name=_("registered at"), on_delete=models.PROTECT, related_name="parties"
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="parties")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["name_pinyin", "id"]
        indexes = [models.Index(fields=["phone"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class OccupancyQuerySet(models.QuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        return self.filter(models.Q(end__isnull=True) | models.Q(end__gte=on), start__lte=on)


class Occupancy(TimeStampedModel):
    """A party's tie to a unit as owner, resident or tenant, from `start` until `end` (open when empty)."""

    party = models.ForeignKey(Party, verbose_name=_("party"), on_delete=models.CASCADE, related_name="occupancies")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="occupancies")
    role = models.CharField(_("role"), max_length=10, choices=OccupancyRole.choices, default=OccupancyRole.OWNER)
    start = models.DateField(_("start date"), default=timezone.localdate)
    end = models.DateField(_("end date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = OccupancyQuerySet.as_manager()

    class Meta:
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancies")
        ordering = ["-start", "id"]
        indexes = [models.Index(fields=["unit", "end"]), models.Index(fields=["party", "end"])]

    def __str__(self) -> str:
        return f"{self.party} · {self.unit} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return self.start <= today and (self.end is None or self.end >= today)


class ContactLog(models.Model):
    """One contact with a party: a call, a visit, a walk-in; what was said, by whom."""

    party = models.ForeignKey(Party, verbose_name=_("party"), on_delete=models.CASCADE, related_name="contacts")
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), null=True, on_delete=models.SET_NULL
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    time = models.DateTimeField(_("time"), default=timezone.now)
    summary = models.TextField(_("summary"))

    class Meta:
        verbose_name = _("contact record")
        verbose_name_plural = _("contact records")
        ordering = ["-time", "-id"]

    def __str__(self) -> str:
        return f"{self.party} {self.time:%Y-%m-%d}"


class ImportJob(models.Model):
    """One upload of a ledger workbook: validated first, then committed all or nothing.

    The worker updates `processed_rows` as it goes so the page can show progress; `errors`
    holds every problem found as {"sheet", "row", "column", "message"}.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Validating")
        INVALID = "invalid", _("Problems found")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    project = models.ForeignKey(
        Project, verbose_name=_("project"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
