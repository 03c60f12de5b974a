"""The production settings plus the complaints bench's comparison admin (bench.complaints_urls)."""

from govcms.settings import *  # noqa: F403

ROOT_URLCONF = "bench.complaints_urls"
