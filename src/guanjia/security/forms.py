from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .signin import failures_left_message


class StaffLoginForm(AuthenticationForm):
    """The console's sign-in form: a wrong password also says how many tries are left before the lockout."""

    def get_invalid_login_error(self):
        message = _("Wrong user name or password.")
        left = failures_left_message(self.request) if self.request is not None else ""
        return ValidationError(f"{message} {left}".strip(), code="invalid_login")
