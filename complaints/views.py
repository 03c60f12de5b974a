"""The citizen's side of the complaints app: the public 问政 list, writing to us, and tracking a message.

Privacy: the public list shows only what a reviewer published (`published_cases`), names masked, never a
phone or identity number. Tracking needs the case number and the query code; a wrong code and an unknown
number get the same answer, and the tracking pages load no personal data at all. Once the code checked out,
the case's id waits in the session (never the code in a URL), so the citizen can rate the reply or reopen it.
Every page with personal or one-time data is `never_cache` (Cache-Control: no-store, private).

Abuse: the limits fall on the attacker's address, never on the citizen. Every submission counts against the
client IP and against the mobile number *from that IP* before anything else is done, then the captcha is checked,
and only then files are read; a mobile number counts across addresses only for submissions that solved the
captcha, and at a much higher daily level, so junk from one address cannot lock a citizen's number. Failed
tracking attempts count against the IP and against the IP and case number together, and past those limits even
the right code is refused from that address; after a few failures on a case (from anywhere) or from an address,
the captcha is asked for, never a lock on the case. Unknown numbers count exactly as known ones, so neither the
answer nor the captcha tells whether a case exists.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from complaints import services
from complaints.actions import RATE, REOPEN
from complaints.forms import CaseForm, RatingForm, ReopenForm, TrackCaptchaForm, TrackForm, form_values
from complaints.models import Case, CaseKind, CaseState
from complaints.selectors import published_cases
from shared import ratelimit
from shared.captcha import FIELD_NAME, REFRESH_NAME
from shared.client_ip import client_ip

PAGE_SIZE = 20
RECEIPT_KEY = "complaints_receipt"
TRACKED_KEY = "complaints_tracked"
TRACKED_MAX = 10
COMMENT_MAX = REASON_MAX = 1000  # as complaints.actions.Rate / Reopen
# What the public list and page read: the published texts, never the citizen's own words or contact details.
PUBLIC_FIELDS = ("number", "kind", "name", "public_subject", "public_question", "public_answer", "received_at",
                 "replied_at", "published_at", "department", "department__name")  # fmt: skip
# Personal data the tracking pages never load, so no template can show it by mistake.
PERSONAL_FIELDS = ("name", "phone", "phone_hash", "id_number", "id_hash", "organisation", "content", "wechat_openid")

STATE_NOTES = {
    CaseState.RECEIVED: gettext_lazy(
        "Your message has been received and is being passed to the department responsible."
    ),
    CaseState.ASSIGNED: gettext_lazy("The department responsible is handling your message."),
    CaseState.DRAFTING: gettext_lazy("The department responsible is preparing its reply."),
    CaseState.REPLY_IN_REVIEW: gettext_lazy("The reply is being checked before it is sent to you."),
    CaseState.REPLIED: gettext_lazy("The department has replied. Please tell us whether you are satisfied."),
    CaseState.CLOSED: gettext_lazy("Your message has been dealt with and is closed."),
    CaseState.MERGED: gettext_lazy("Your message is being handled together with another message on the same matter."),
}


SECTIONS = {"list": "list", "detail": "list", "new": "new", "done": "new", "track": "track", "status": "track"}


def _render(request, template: str, context: dict, *, status: int = 200, retry_after: int | None = None):
    section = SECTIONS.get(template.removeprefix("complaints/").removesuffix(".html"), "")
    response = TemplateResponse(request, template, {"section": section, **context}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _see_other(url: str) -> HttpResponseRedirect:
    # 303: after a POST the browser fetches the next page with GET, and a reload never sends the form again.
    return HttpResponseRedirect(url, status=303)


def _wait_message(seconds: int, typed_kept: bool = True) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    parts = [_("Please wait about %(minutes)s minutes, then try again.") % {"minutes": minutes}]
    if typed_kept:
        parts.append(_("What you typed is still in the form below."))
    return " ".join(parts)


# -- the public 问政 list ----------------------------------------------------------------------------------------


@require_safe
def case_list(request):
    kind = request.GET.get("kind", "")
    cases = published_cases().only(*PUBLIC_FIELDS)
    if kind in CaseKind.values:
        cases = cases.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "kind": kind, "kinds": CaseKind.choices, "query_prefix": f"kind={kind}&" if kind else ""}
    return _render(request, "complaints/list.html", context)


@require_safe
def case_detail(request, number: str):
    case = get_object_or_404(published_cases().only(*PUBLIC_FIELDS), number=number)
    return _render(request, "complaints/detail.html", {"case": case})


# -- writing to us -----------------------------------------------------------------------------------------------


PHONE_DAY_SECONDS = 24 * 3600


def _submission_refused(request) -> int | None:
    """Count this submission against the client IP and the mobile number from that IP; the seconds to wait
    when over. Nothing here can be spent from another address."""
    window = settings.COMPLAINT_SUBMIT_RATE_WINDOW
    ip = client_ip(request) or "unknown"
    if not ratelimit.hit(f"complaint-ip:{ip}", settings.COMPLAINT_SUBMIT_RATE_PER_IP, window):
        return ratelimit.seconds_left(window)
    # Normalised as validate_case_fields does, so "138 1234 5678" and "13812345678" share one count. Asking for
    # a new captcha picture sends no message: it counts for the address only, or a citizen who cannot read the
    # picture would use up their own number's allowance.
    phone = services.normalise_phone(request.POST.get("phone", ""))
    if (
        phone
        and REFRESH_NAME not in request.POST
        and not ratelimit.hit(
            f"complaint-phone-ip:{services.phone_hash(phone)}:{ip}", settings.COMPLAINT_SUBMIT_RATE_PER_PHONE, window
        )
    ):
        return ratelimit.seconds_left(window)
    return None


def _phone_day_refused(phone: str) -> int | None:
    """Count a submission that solved the captcha against its mobile number, from any address: a robot flooding
    one number from many addresses is stopped, while junk without a captcha never locks the number."""
    phone = services.normalise_phone(phone)
    if phone and not ratelimit.hit(
        f"complaint-phone-day:{services.phone_hash(phone)}", settings.COMPLAINT_SUBMIT_RATE_PER_PHONE_DAILY,
        PHONE_DAY_SECONDS,
    ):  # fmt: skip
        return ratelimit.seconds_left(PHONE_DAY_SECONDS)
    return None


def _new_page(request, form, *, refusal: str = "", status: int = 200, retry_after: int | None = None):
    # Browsers never send files again with a re-shown form: say so whenever some were sent.
    files_dropped = bool(request.FILES.getlist("attachments")) if request.method == "POST" else False
    context = {"form": form, "refusal": refusal, "files_dropped": files_dropped}
    return _render(request, "complaints/new.html", context, status=status, retry_after=retry_after)


@never_cache
@require_http_methods(["GET", "POST"])
def case_new(request):
    if request.method != "POST":
        return _new_page(request, CaseForm())
    wait = _submission_refused(request)
    if wait is not None:
        # Shown again unvalidated: the captcha is not spent and the files are not read for a refused request.
        form = CaseForm(initial=form_values(request.POST, CaseForm))
        refusal = _("You have sent several messages in a short while.") + " " + _wait_message(wait)
        return _new_page(request, form, refusal=refusal, status=429, retry_after=wait)
    form = CaseForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        wait = _phone_day_refused(data.get("phone") or "")
        if wait is not None:
            refusal = _("Many messages have been sent with this mobile number today.") + " " + _wait_message(wait)
            return _new_page(request, CaseForm(initial=form_values(request.POST, CaseForm)), refusal=refusal,
                             status=429, retry_after=wait)  # fmt: skip
        try:
            case, code = services.case_create(
                **form.service_values(),
                category=data.get("category"),
                allow_publish=data.get("allow_publish", False),
                actor=None,
                attachments=data.get("attachments") or [],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session[RECEIPT_KEY] = {"number": case.number, "code": code}
            return _see_other(reverse("complaints:done"))
    return _new_page(request, form)


@never_cache
@require_GET  # not HEAD: a link checker must not use up the one showing of the code
def done(request):
    """The case number and query code, once: the session forgets them as soon as they are shown."""
    receipt = request.session.pop(RECEIPT_KEY, None)
    return _render(request, "complaints/done.html", {"receipt": receipt})


# -- tracking ----------------------------------------------------------------------------------------------------


def _typed_number(request) -> str:
    """The case number as TrackForm cleans it, read before the form is chosen (bounded: it becomes a Redis key)."""
    return str(request.POST.get("number", "")).strip().upper()[:20]


def _tracking_counters(request, number: str) -> dict[str, tuple[str, int]]:
    """Failure counters (key, limit). The case-wide one has no hard limit: it only asks for the captcha, so
    nobody can lock a citizen out of their own case by guessing wrong on purpose."""
    ip = client_ip(request) or "unknown"
    return {
        "ip": (f"complaint-track-ip:{ip}", settings.COMPLAINT_TRACK_FAILURES_PER_IP),
        "ip_case": (f"complaint-track-ip-case:{ip}:{number}", settings.COMPLAINT_TRACK_FAILURES_PER_IP_CASE),
        "case": (f"complaint-track-case:{number}", settings.COMPLAINT_TRACK_CAPTCHA_AFTER),
    }


def _failures(key: str) -> int:
    """Failed attempts so far in this window, read from shared.ratelimit's counter without counting one more."""
    return ratelimit.count(key, settings.COMPLAINT_TRACK_WINDOW)


def _tracking_refused(request, number: str) -> int | None:
    """Seconds this address must wait: it has guessed wrong too often, overall or on this case."""
    counters = _tracking_counters(request, number)
    if any(_failures(key) >= limit for key, limit in (counters["ip"], counters["ip_case"])):
        return ratelimit.seconds_left(settings.COMPLAINT_TRACK_WINDOW)
    return None


def _captcha_needed(request, number: str) -> bool:
    counters = _tracking_counters(request, number)
    after = settings.COMPLAINT_TRACK_CAPTCHA_AFTER
    return _failures(counters["ip"][0]) >= after or _failures(counters["case"][0]) >= after


def _tracking_failed(request, number: str) -> None:
    for key, limit in _tracking_counters(request, number).values():
        ratelimit.hit(key, limit, settings.COMPLAINT_TRACK_WINDOW)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    if request.method != "POST":
        return _render(request, "complaints/track.html", {"form": TrackForm()})
    number = _typed_number(request)
    wait = _tracking_refused(request, number)
    if wait is not None:
        # Refused before the code (or the captcha) is looked at: past the limit a right guess looks exactly like
        # a wrong one. Only this address is refused; the citizen elsewhere is not.
        form = TrackForm(initial={"number": number})
        refusal = _("There have been too many wrong attempts.") + " " + _wait_message(wait, typed_kept=False)
        return _render(request, "complaints/track.html", {"form": form, "refusal": refusal}, status=429,
                       retry_after=wait)  # fmt: skip
    form = (TrackCaptchaForm if _captcha_needed(request, number) else TrackForm)(request.POST)
    if not form.is_valid():
        return _render(request, "complaints/track.html", {"form": form})
    number = form.cleaned_data["number"]
    case = services.case_find_for_citizen(number=number, code=form.cleaned_data["code"])
    if case is None:
        _tracking_failed(request, number)
        form.add_error(None, _("The case number or the query code is wrong. Please check both and try again."))
        if FIELD_NAME not in form.fields and _captcha_needed(request, number):
            form.add_captcha()  # shown for the next attempt, with what was typed
        return _render(request, "complaints/track.html", {"form": form})
    # A new session key for the new right: whoever planted the old one learns nothing.
    request.session.cycle_key()
    tracked = [pk for pk in request.session.get(TRACKED_KEY, []) if pk != case.pk]
    request.session[TRACKED_KEY] = [*tracked[-(TRACKED_MAX - 1) :], case.pk]
    return _see_other(reverse("complaints:status", args=[case.number]))


def _tracked_case(request, number: str) -> Case | None:
    """The case with this number, if this session proved its query code; without any personal data."""
    tracked = request.session.get(TRACKED_KEY) or []
    if not tracked or not isinstance(number, str):
        return None
    return (
        Case.objects.filter(number=number.strip().upper(), pk__in=tracked)
        .select_related("department", "merged_into")
        .defer(*PERSONAL_FIELDS, *(f"merged_into__{field}" for field in PERSONAL_FIELDS))
        .first()
    )


def _status_page(request, case: Case, *, rating_form=None, reopen_form=None, problems=()):
    # A form is offered only while its action's check allows it; a bound one comes back with its errors.
    if not RATE.allowed(None, case):
        rating_form = None
    elif rating_form is None:
        rating_form = RatingForm(initial={"number": case.number})
    if not REOPEN.allowed(None, case):
        reopen_form = None
    elif reopen_form is None:
        reopen_form = ReopenForm(initial={"number": case.number})
    context = {
        "case": case,
        "state_note": STATE_NOTES.get(case.state, ""),
        "rating_form": rating_form,
        "reopen_form": reopen_form,
        "problems": problems,
    }
    return _render(request, "complaints/status.html", context)


@never_cache
@require_GET
def status(request, number: str):
    case = _tracked_case(request, number)
    if case is None:
        return _see_other(reverse("complaints:track"))
    return _status_page(request, case)


def _refused_text(text: str, limit: int, *, required: bool) -> bool:
    """Whether the service refused the citizen's text itself (rather than the case's state): the error then
    belongs next to that field."""
    text = (text or "").strip()
    return (required and not text) or len(text) > limit or bool(services.MARKUP.search(text))


def _citizen_action(request, form_class, act, *, field: str, limit: int, required: bool, form_arg: str, done: str = ""):
    """Rate or reopen a tracked case as its citizen (user None: the session proved the query code): the form, the
    action, and the status page again (303 when done, with `?<done>=1` for the page to say thank you)."""
    case = _tracked_case(request, request.POST.get("number", ""))
    if case is None:
        return _see_other(reverse("complaints:track"))
    form = form_class(request.POST)
    problems = []
    if form.is_valid():
        try:
            act(case, form.cleaned_data)
        except ValidationError as error:
            if _refused_text(form.cleaned_data[field], limit, required=required):
                form.add_error(field, error)
            else:
                problems = error.messages
                form = None
            case = _tracked_case(request, case.number)  # as it is now, whatever happened meanwhile
        else:
            return _see_other(reverse("complaints:status", args=[case.number]) + (f"?{done}=1" if done else ""))
    return _status_page(request, case, problems=problems, **{form_arg: form})


@never_cache
@require_POST
def rate(request):
    return _citizen_action(
        request,
        RatingForm,
        lambda case, data: RATE.execute(None, case, rating=data["rating"], comment=data["comment"]),
        field="comment",
        limit=COMMENT_MAX,
        required=False,
        form_arg="rating_form",
        done="rated",
    )


@never_cache
@require_POST
def reopen(request):
    return _citizen_action(
        request,
        ReopenForm,
        lambda case, data: REOPEN.execute(None, case, reason=data["reason"]),
        field="reason",
        limit=REASON_MAX,
        required=True,
        form_arg="reopen_form",
    )
