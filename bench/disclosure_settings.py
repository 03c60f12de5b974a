"""The production settings plus the disclosure bench's comparison routes (bench.disclosure_urls)."""

from govcms.settings import *  # noqa: F403

ROOT_URLCONF = "bench.disclosure_urls"
