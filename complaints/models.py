from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.masking import mask_id_number, mask_name, mask_phone


class OverrideKind(models.TextChoices):
    HOLIDAY = "holiday", _("holiday (day off)")
    WORKDAY = "workday", _("make-up workday")


class CalendarOverride(models.Model):
    """One day of the State Council's holiday announcement, entered by an administrator.

    It wins over the chinesecalendar package for its date, and is the only source for a year the package does
    not know yet: see complaints.workdays.
    """

    date = models.DateField(
        _("date"),
        unique=True,
        error_messages={"unique": _("This date has already been entered. Edit the existing entry instead.")},
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OverrideKind.choices)
    name = models.CharField(
        _("name"), max_length=50, help_text=_("As in the announcement, e.g. 春节 or 国庆节调休上班.")
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("holiday or make-up workday")
        verbose_name_plural = _("holidays and make-up workdays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date.isoformat()} {self.get_kind_display()}：{self.name}"


class CaseKind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    DISCLOSURE_REQUEST = "disclosure_request", _("Government information disclosure request")


class CaseChannel(models.TextChoices):
    WEB = "web", _("Website")
    WECHAT = "wechat", _("WeChat")
    COUNTER = "counter", _("Counter visit")
    PHONE = "phone", _("Telephone")
    LETTER = "letter", _("Letter")


class CaseState(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSIGNED = "assigned", _("Assigned")
    DRAFTING = "drafting", _("Drafting reply")
    REPLY_IN_REVIEW = "reply_in_review", _("Reply in review")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed")
    MERGED = "merged", _("Merged into another case")


# States in which the case is still someone's work and its deadline runs.
OPEN_STATES = (CaseState.RECEIVED, CaseState.ASSIGNED, CaseState.DRAFTING, CaseState.REPLY_IN_REVIEW)


class ApplicantKind(models.TextChoices):
    """Who asked: the columns of section 三 of the annual disclosure report."""

    NATURAL_PERSON = "natural_person", _("Natural person")
    BUSINESS = "business", _("Commercial enterprise")
    RESEARCH = "research", _("Research institution")
    PUBLIC_INTEREST = "public_interest", _("Social welfare organisation")
    LEGAL_SERVICES = "legal_services", _("Legal service provider")
    OTHER_ORG = "other_org", _("Other organisation")


class DisclosureOutcome(models.TextChoices):
    """How a disclosure request was answered: the entered outcome rows of section 三 of the annual report."""

    DISCLOSED = "disclosed", _("Disclosed")
    PARTLY = "partly", _("Partly disclosed")
    REFUSED_STATE_SECRET = "refused_state_secret", _("Not disclosed: state secret")
    REFUSED_PROHIBITED_BY_LAW = "refused_prohibited_by_law", _("Not disclosed: prohibited by other laws")
    REFUSED_THREE_SAFETIES = "refused_three_safeties", _("Not disclosed: would endanger the three safeties")
    REFUSED_THIRD_PARTY = "refused_third_party", _("Not disclosed: a third party's lawful rights")
    REFUSED_INTERNAL_AFFAIRS = "refused_internal_affairs", _("Not disclosed: internal affairs information")
    REFUSED_PROCESS_INFO = "refused_process_info", _("Not disclosed: process information")
    REFUSED_ENFORCEMENT_FILES = "refused_enforcement_files", _("Not disclosed: law enforcement case files")
    REFUSED_INQUIRY_MATTERS = "refused_inquiry_matters", _("Not disclosed: administrative inquiry matter")
    UNABLE_NOT_HELD = "unable_not_held", _("Cannot be provided: not held by this organ")
    UNABLE_NEEDS_CREATION = "unable_needs_creation", _("Cannot be provided: would have to be created")
    UNABLE_STILL_UNCLEAR = "unable_still_unclear", _("Cannot be provided: still unclear after correction")
    NOT_HANDLED_PETITION = "not_handled_petition", _("Not handled: a petition, report or complaint")
    NOT_HANDLED_REPEATED = "not_handled_repeated", _("Not handled: a repeated request")
    NOT_HANDLED_PUBLICATION = "not_handled_publication", _("Not handled: a request for a public publication")
    NOT_HANDLED_EXCESSIVE = "not_handled_excessive", _("Not handled: excessive repeated requests")
    NOT_HANDLED_CONFIRMATION = "not_handled_confirmation", _("Not handled: confirmation of information obtained")
    OTHER_NO_CORRECTION = "other_no_correction", _("Other: not corrected in time")
    OTHER_FEE_UNPAID = "other_fee_unpaid", _("Other: fee not paid in time")
    OTHER_OTHER = "other_other", _("Other")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class Category(models.Model):
    """A topic citizens choose from (教育, 交通, 住房 ...): what routing rules look at besides keywords."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class RoutingRule(models.Model):
    """Category and/or keyword -> department. The first active rule that matches (lowest priority number) wins;
    the registrar confirms or changes the suggestion."""

    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )
    category = models.ForeignKey(
        Category, verbose_name=_("topic"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    kind = models.CharField(_("type"), max_length=32, choices=CaseKind.choices, blank=True)
    keywords = models.CharField(
        _("keywords"),
        max_length=500,
        blank=True,
        help_text=_("Separate keywords with spaces or commas; any one found in the subject or content matches."),
    )
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "id"]

    def __str__(self):
        return f"{self.priority}: {self.department}"


class DeadlinePolicy(models.Model):
    """Working days to answer, per type and optionally per department (a department's own rule wins)."""

    kind = models.CharField(_("type"), max_length=32, choices=CaseKind.choices)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Leave empty for the default of every department."),
    )
    workdays = models.PositiveSmallIntegerField(_("working days to reply"))

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["kind", "department"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "department"], name="deadline_policy_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(department=None), name="deadline_policy_default_unique"
            ),
            models.CheckConstraint(condition=models.Q(workdays__gte=1, workdays__lte=60), name="deadline_policy_range"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.department or ''} {self.workdays}"


class ReplyTemplate(models.Model):
    """Reusable reply text. Shared by all departments when department is empty."""

    title = models.CharField(_("title"), max_length=100)
    kind = models.CharField(_("type"), max_length=32, choices=CaseKind.choices, blank=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["title"]

    def __str__(self):
        return self.title


class Case(models.Model):
    """One message from a citizen (咨询/投诉/建议/依申请公开), from receipt to closing.

    The state moves only through complaints.services; personal data (phone, identity number) is encrypted and
    looked up by keyed hash; the query code is kept only as a keyed hash (it is shown to the citizen once).
    """

    number = models.CharField(_("case number"), max_length=20, unique=True)
    query_code_hash = models.CharField(max_length=64, editable=False)
    kind = models.CharField(_("type"), max_length=32, choices=CaseKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=CaseChannel.choices, default=CaseChannel.WEB)
    category = models.ForeignKey(
        Category, verbose_name=_("topic"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=100)
    content = models.TextField(_("content"))
    name = models.CharField(_("name"), max_length=50)
    phone = EncryptedTextField(_("mobile phone"), blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number = EncryptedTextField(_("identity number"), blank=True, default="")
    id_hash = models.CharField(max_length=64, blank=True, editable=False)
    applicant_kind = models.CharField(
        _("applicant"), max_length=32, choices=ApplicantKind.choices, default=ApplicantKind.NATURAL_PERSON
    )
    organisation = models.CharField(_("organisation"), max_length=100, blank=True)
    allow_publish = models.BooleanField(_("citizen allows publication"), default=False)
    wechat_openid = models.CharField(max_length=64, blank=True, editable=False)

    state = models.CharField(_("state"), max_length=20, choices=CaseState.choices, default=CaseState.RECEIVED)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    suggested_department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("suggested department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)

    # The deadline: recomputed by services whenever its inputs change (extension, clock stop).
    deadline_workdays = models.PositiveSmallIntegerField(_("working days to reply"))
    due_date = models.DateField(_("due date"), db_index=True)
    due_provisional = models.BooleanField(_("due date provisional"), default=False)
    clock_stopped_since = models.DateField(_("clock stopped since"), null=True, blank=True)
    # An extension is requested by the handler and takes effect only when someone else approves it.
    extension_requested_workdays = models.PositiveSmallIntegerField(_("extension requested"), default=0)
    extension_requested_at = models.DateTimeField(_("extension requested at"), null=True, blank=True)
    extension_workdays = models.PositiveSmallIntegerField(_("extension (working days)"), default=0)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    extension_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("extension requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("extension approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    extension_approved_at = models.DateTimeField(_("extension approved at"), null=True, blank=True)

    reply = models.TextField(_("reply"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, choices=DisclosureOutcome.choices, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True, db_index=True)
    replied_workdays = models.PositiveSmallIntegerField(_("working days taken"), null=True, blank=True)
    replied_on_time = models.BooleanField(_("replied on time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    escalated = models.BooleanField(_("referred to discipline inspection"), default=False)
    escalation_reason = models.TextField(_("referral reason"), blank=True)
    return_reason = models.TextField(_("reason returned to registrar"), blank=True)

    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # A reopened case's deadline counts from here; received_at stays the first receipt (statistics).
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)

    published = models.BooleanField(_("on the public list"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    public_subject = models.CharField(_("public subject"), max_length=100, blank=True)
    public_question = models.TextField(_("public question"), blank=True)
    public_answer = models.TextField(_("public answer"), blank=True)

    class Meta:
        verbose_name = _("citizen message")
        verbose_name_plural = _("citizen messages")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("register_case", _("Can register and route citizen messages")),
            ("handle_case", _("Can draft replies to citizen messages")),
            ("review_reply", _("Can approve replies and publish messages")),
            ("approve_extension", _("Can approve deadline extensions")),
            ("view_statistics", _("Can view citizen message statistics")),
        ]
        indexes = [
            models.Index(fields=["department", "-received_at"], name="case_dept_received"),
            models.Index(fields=["state", "due_date"], name="case_state_due"),
            models.Index(fields=["-received_at", "-id"], name="case_received"),
            models.Index(fields=["-published_at"], condition=models.Q(published=True), name="case_public_list"),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)


class ClockStop(models.Model):
    """A span during which a disclosure request's deadline does not run (补正, third-party opinion)."""

    class Reason(models.TextChoices):
        CORRECTION = "correction", _("Waiting for the applicant's correction")
        THIRD_PARTY = "third_party", _("Waiting for a third party's opinion")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="clock_stops")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    started_on = models.DateField(_("stopped on"))
    ended_on = models.DateField(_("resumed on"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("stopped by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("clock stop")
        verbose_name_plural = _("clock stops")
        ordering = ["started_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=models.Q(ended_on=None), name="one_running_clock_stop")
        ]

    def __str__(self):
        return f"{self.get_reason_display()} {self.started_on}–{self.ended_on or ''}"


class Attachment(models.Model):
    """A file the citizen sent, checked by content and kept outside MEDIA_ROOT (see complaints.attachments)."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments")
    path = models.CharField(max_length=200, editable=False)
    original_name = models.CharField(_("file name"), max_length=100)
    content_type = models.CharField(_("type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self):
        return self.original_name


class ReplyDraft(models.Model):
    """The reply being written, and each review decision on it (four-eyes: never approved by its author)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SENT_BACK = "sent_back", _("Sent back")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="drafts")
    body = models.TextField(_("reply"))
    outcome = models.CharField(_("outcome"), max_length=32, choices=DisclosureOutcome.choices, blank=True)
    template = models.ForeignKey(
        ReplyTemplate, verbose_name=_("template"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        verbose_name = _("reply draft")
        verbose_name_plural = _("reply drafts")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.case.number} {self.get_state_display()}"


class DigestDelivery(models.Model):
    """A department's morning digest of one day: claimed by one run, then marked sent, in the database (a Redis
    flush must not send it twice). `claimed_at` is a lease: a run killed while sending leaves a claim that a later
    run may take over once it is old."""

    day = models.DateField(_("day"))
    department = models.ForeignKey(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("digest delivery")
        verbose_name_plural = _("digest deliveries")
        constraints = [models.UniqueConstraint(fields=["day", "department"], name="complaints_digest_once_a_day")]

    def __str__(self):
        return f"{self.day} {self.department_id}"
