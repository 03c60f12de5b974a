from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from answers import demo as answers_demo
from complaints import demo as complaints_demo
from content import demo as content_demo
from disclosure import demo as disclosure_demo
from publishing import demo as publishing_demo


class Command(BaseCommand):
    help = "Create the demo county: departments, users per role, articles, channel accounts, disclosure records, citizens' messages. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        departments, rows = accounts_demo.seed()
        articles = content_demo.seed(departments)
        channels = publishing_demo.seed(departments)
        records = disclosure_demo.seed(departments)
        cases = complaints_demo.seed(departments)
        answers = answers_demo.seed(departments)
        messages = publishing_demo.seed_messages()  # after the answer library, whose answers some of them got
        self.stdout.write(
            f"Demo county ready: {len(departments)} departments, {len(rows)} users, {articles} articles, "
            f"{channels} channel accounts (WeChat and Weibo played by the sandbox), {records} fund disbursements, {cases} citizens' messages, "
            f"{answers} answer library entries, {messages} WeChat followers' messages."
        )
        self.stdout.write(f"Every demo login uses the password: {accounts_demo.DEMO_PASSWORD}")
        for username, role, real_name, dept_code in rows:
            self.stdout.write(f"  {username:<16} {role:<14} {real_name} ({departments[dept_code].name})")
