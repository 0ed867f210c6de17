"""The engine's shortcuts give what the full reading gives: the markers' bounded memo (text that
never repeats does not evict the sentences every ticket repeats), the key-word prefilters before
a costly pattern, the sentence splitter."""

from deskwatch.core.engine import markers
from deskwatch.core.engine.lazy import Recent
from deskwatch.core.engine.markers import find_markers


def _read(memo, key):
    """How the engine reads a memo: the current generation, then the older one."""
    value = memo.get(key)
    return value if value is not None else memo.recall(key)


def test_recent_keeps_what_is_still_read_while_one_off_keys_stream_through():
    memo = Recent(4)
    memo.put("hot", 1)
    for i in range(20):
        memo.put(f"once-{i}", i)
        assert _read(memo, "hot") == 1  # read again each time: it moves to the current generation
    assert _read(memo, "once-0") is None  # two generations ago: gone
    assert len(memo) + len(memo.older) <= 8  # bounded by two generations


def test_recent_forgets_what_is_not_read_again():
    memo = Recent(2)
    memo.put("a", 1)
    for key in "bcdef":
        memo.put(key, 0)
    assert _read(memo, "a") is None


def test_markers_from_the_memo_equal_markers_read_afresh():
    pieces = ("Checkout fails for all our shoppers since your update.",
              "This is the third time I am asking! We want a refund of $24,000 now.")
    first = find_markers(pieces).found
    # A stream of one-off sentences passes through the memo between the two reads.
    for i in range(markers._MAX_SENTENCES + 10):
        find_markers((f"Ref zq{i:x}. Any update on this?",)).found
    assert find_markers(pieces).found == first
    markers._BY_SENTENCE.clear(), markers._BY_SENTENCE.older.clear()
    markers._BY_PIECE.clear(), markers._BY_PIECE.older.clear()
    assert find_markers(pieces).found == first
    assert first["payments"] and first["broad"] and first["repeated"] and first["money"]


def test_a_failure_said_to_be_over_is_found_with_or_without_the_callers_word_sets():
    from deskwatch.core.engine.text import word_set

    subject = "Checkout down"
    for latest, over in [
        ("The checkout was down for all our shoppers.", False),
        ("Thanks, everything is working fine again since this morning.", True),
        ("The 502s are gone now, just send us the RCA.", True),
        ("Last week's outage: can we get the RCA?", True),
        ("It was fixed but now it is still failing.", False),
        # Non-ASCII text can case-fold into a key word ("ſ" reads as "s"): the pattern decides.
        ("Everything workſ again.", True),
        ("Café closed, checkout fails for all of our shoppers.", False),
    ]:
        pieces = (subject, "Checkout fails for all our shoppers!", latest)
        given = find_markers(pieces, (None, *map(word_set, pieces[1:])))
        assert given.resolved is over, latest
        assert find_markers(pieces).resolved is over, latest


def test_sentences_end_at_a_stop_mark_or_line_break_but_not_inside_a_number_or_version():
    import random
    import re

    from deskwatch.core.engine.money import _sentences

    # The definition, one character at a time: a sentence is any run of characters other than
    # . ! ? and line breaks, where a point followed by a word character ("1.200,50", "v2.3")
    # does not end it; the stop marks after it belong to it.
    reference = re.compile(r"(?:[^.!?\n]|\.(?=\w))+[.!?]*")
    assert _sentences("It broke in v2.3. Refund EUR 1.200,50 now!!\nThanks") == [
        "It broke in v2.3.", " Refund EUR 1.200,50 now!!", "Thanks"]
    rnd = random.Random(5)
    for _ in range(20000):
        text = "".join(rnd.choice("ab .!?\n.é'1,") for _ in range(rnd.randrange(40)))
        assert _sentences(text) == reference.findall(text), repr(text)


def test_a_condition_without_threat_words_is_no_threat_and_one_with_them_is():
    from datetime import datetime, timedelta, timezone

    from deskwatch.core import config
    from deskwatch.core.engine import decide
    from deskwatch.core.model import ticket_from_dict

    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    cfg = config.load(None)

    def management(body):
        created = (now - timedelta(minutes=30)).isoformat()
        t = ticket_from_dict({"id": "zendesk:1", "subject": "Export", "created_at": created,
                              "organization": {"name": "Acme", "tier": "business"},
                              "messages": [{"author": "customer", "created_at": created, "body": body}]})
        return decide(t, cfg, now).management

    assert management("If you could look at the export that would be great, unless it is a known issue.") is None
    m = management("If the export is not fixed we are switching providers.")
    assert m is not None and any("churn threat, if it is not resolved" in r for r in m.reasons), m
