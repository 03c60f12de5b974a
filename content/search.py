"""Chinese site search without word segmentation: every run of two characters is a term
(shared.bigrams).

An article's live text is indexed as its set of distinct character bigrams (GIN on a
text[] column). A query of n >= 2 characters matches articles holding all of its n-1
bigrams (the index does this), and the exact substring is then re-checked on the
candidates, so results are precisely "the articles that contain these characters".
"""

from django.db.models import BooleanField, Case, Q, Value, When

from shared.bigrams import bigrams


def search_filter(terms: list[str]) -> Q:
    condition = Q()
    for term in terms:
        condition &= Q(search_bigrams__contains=bigrams(term))
        if len(term) > 2:
            # Holding every bigram of a longer term does not prove they are consecutive:
            # re-check the text. A two-character term is exactly its one bigram.
            condition &= Q(search_text__contains=term)
    return condition


def title_match_first(terms: list[str]):
    """An ordering expression: articles whose title holds every term come first."""
    title_match = Q()
    for term in terms:
        title_match &= Q(search_title__contains=term)
    return Case(When(title_match, then=Value(True)), default=Value(False), output_field=BooleanField())
