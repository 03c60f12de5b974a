"""The office's own portal: at send_at the articles go live through the content services."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from content.services import article_publish
from publishing.channels.base import PermanentError, SendPlan, SendResult


class PortalChannel:
    resend_is_safe = True  # publishing an article that is already live changes nothing

    def __init__(self, account):
        self.account = account

    def preflight(self, plan: SendPlan) -> list:
        return []  # approval is checked for every platform; the portal has no limits of its own

    def send(self, delivery) -> SendResult:
        published = []
        for article in delivery.schedule.ordered_articles():
            latest = article.revisions.order_by("-number").values_list("pk", flat=True).first()
            if article.is_live and article.live_revision_id == latest:
                continue  # already live with this text: publishing again would change nothing
            try:
                article_publish(actor=delivery.schedule.created_by, article=article)
            except (PermissionDenied, ValidationError) as error:
                raise PermanentError("portal", " ".join(getattr(error, "messages", [str(error)]))) from error
            published.append(article.pk)
        return SendResult(sent=True, detail={"published": published})

    def status(self, delivery) -> SendResult | None:
        articles = delivery.schedule.ordered_articles()
        return SendResult(sent=True) if all(article.is_live for article in articles) else None

    def where_to_check(self, delivery) -> str:
        return _("Open the articles on the portal to see whether they are online.")
