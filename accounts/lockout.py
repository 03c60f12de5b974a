"""Login lockout that hurts the attacker, not the account holder (a django-axes handler).

`AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]`, each with its own limit
(axes itself compares every parameter set with the one `AXES_FAILURE_LIMIT`):

- an account from one address: `AXES_FAILURE_LIMIT` (5) failures lock that account *from that
  address*, so a stranger's guesses never lock the real user out from elsewhere;
- one address across all accounts: `LOGIN_FAILURES_PER_ADDRESS` failures stop password spraying
  from it. That limit is higher, so an office behind one NAT address survives a few typos.

A successful sign-in clears only that account's failures from that address: one good password
must not wipe a sprayer's count for the whole address.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

ADDRESS_WIDE = "ip_address"


class AddressAwareLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """The failures as axes compares them with `AXES_FAILURE_LIMIT`: an address-wide count is scaled
        so that it reaches that limit exactly at `LOGIN_FAILURES_PER_ADDRESS`."""
        limit = get_failure_limit(request, credentials)
        per_address = max(1, settings.LOGIN_FAILURES_PER_ADDRESS)
        counts = [0]
        parameter_sets = get_lockout_parameters(request, credentials)
        for parameters, attempts in zip(parameter_sets, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            counts.append(failures * limit // per_address if parameters == ADDRESS_WIDE else failures)
        return max(counts)

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count
