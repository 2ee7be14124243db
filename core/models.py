"""What every app may use: the staff member's district and the audit log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lor.models import LorUnit


class StaffProfile(models.Model):
    """The district a staff member works for; their role comes from their groups.

    Users without a profile (or without a district) work Berlin-wide: only
    administrators should be in that position.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_profile",
    )
    bezirk = models.ForeignKey(
        LorUnit,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": LorUnit.Level.BEZIRK},
        related_name="+",
    )

    class Meta:
        # Tables created by the project package's migrations keep their names.
        db_table = "prisma_staffprofile"
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.bezirk or 'Berlin'})"


class AuditEvent(models.Model):
    """Who imported, changed, deleted, exported or released what, and when.

    Written only through ``core.audit.audit_record``; never edited afterwards.
    The object is kept as type, id and label (not a foreign key) so events
    outlive the objects they describe.
    """

    class Action(models.TextChoices):
        IMPORT = "import", _("Import")
        CREATE = "create", _("Create")
        CHANGE = "change", _("Change")
        DELETE = "delete", _("Delete")
        EXPORT = "export", _("Export")
        RELEASE = "release", _("Release")
        WITHDRAW = "withdraw", _("Withdraw release")
        STATUS = "status", _("Status change")
        LOGIN_LOCKOUT = "login_lockout", _("Login locked")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        db_table = "prisma_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}: {self.action}"
