"""Money in the customer's words: "$24,000", "24k", "EUR 1.200,50", "3 000 €", "$1.2M", with what
kind of request it is (refund, credit, discount, charge): read for policy exceptions beyond an
agent's authority."""

from __future__ import annotations

import re
from dataclasses import dataclass


_CUR_PRE = r"(?:us\$|[$€£¥₹]|(?:usd|eur|gbp|chf|cad|aud|sek|nok|dkk|jpy|inr|nzd)\s?)"
_CUR_POST = r"(?:\s?(?:[$€£]|usd|eur|euros?|gbp|pounds?|dollars?|bucks|chf|francs?|sek|nok|dkk|kr|cad|aud))"
_NUM = r"(?:\d{1,3}(?:[ ,.'\u00a0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_MULT = r"(?:\s?(?:k|m|mn|thousand|million|grand)(?![\w']))?"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?P<pre>{_CUR_PRE})\s?(?P<n1>{_NUM})(?P<m1>{_MULT})|(?P<n2>{_NUM})(?P<m2>{_MULT})(?P<post>{_CUR_POST})(?![\w'])"
    rf"|(?P<n3>\d+(?:[.,]\d+)?)\s?(?P<m3>k)(?![\w']))",
    re.IGNORECASE,
)
_MONEY_CONTEXT = re.compile(
    r"(?<![\w'])(?:refund\w*|credit(?:s|ed)?|discount\w*|reimburs\w*|compensat\w*|charg(?:e|es|ed|ing)|chargeback|"
    r"money\s+back|waive\w*|write\s+off|overcharg\w*|overbill\w*|billed|paid|payment|invoice\w*|fee|fees|"
    r"goodwill|rebate|price\s+(?:reduction|cut|match)|too\s+much|overpa(?:id|ying|y)|(?<=%)\s*off|per\s*cent\s+off)(?![\w'])",
    re.IGNORECASE,
)
_EXCEPTION = re.compile(
    r"(?<![\w'])(?:policy\s+exception|(?:make|making|grant|granting)\s+an?\s+exception|exception\s+to\s+(?:the|your)\s+"
    r"(?:policy|rules?|terms)|outside\s+(?:of\s+)?(?:the|your)\s+(?:policy|refund\s+window|terms)|beyond\s+(?:the|your)\s+"
    r"(?:policy|refund\s+window)|waive\s+(?:the|our|this)\s+(?:fee|fees|charge|penalty|cancellation)|"
    r"(?:past|after|outside)\s+the\s+(?:\d+-day\s+)?refund\s+(?:window|period))(?![\w'])",
    re.IGNORECASE,
)
_EXCEPTION_WORDS = frozenset("exception outside beyond waive past after".split())
# What makes an amount a request beyond an agent's authority: the customer asks for money back or
# a concession, or disputes a charge. "We paid $12,000 for the annual plan" or "is the $1,500 setup
# fee charged once?" name money but ask nothing back.
_ASKS = re.compile(
    r"(?<![\w'])(?:refund\w*|credit(?:s|ed)?|discount\w*|reimburs\w*|compensat\w*|chargeback|money\s+back|waive\w*|"
    r"write\s+off|goodwill|rebate|price\s+(?:reduction|cut|match)|overcharg\w*|overbill\w*|double[-\s]charg\w*|"
    r"(?<=%)\s*off|per\s*cent\s+off|charg(?:e|ed|ing)\s+(?:it\s+|this\s+|that\s+|them\s+)?back|"
    r"(?:charged|billed|invoiced|debited)\s+(?:[^\s.!?]+\s+){0,3}?(?:twice|two\s+times|double)|too\s+much|overpa(?:id|ying)|"
    r"(?:want|need|get|have)\s+(?:it|that|this|them|the\s+\w+|our\s+\w+|my\s+\w+)\s+back|duplicate\s+(?:charges?|payments?|"
    r"invoices?|debits?)|disput\w*|never\s+(?:ordered|signed\s+up|agreed|authori[sz]ed)|wrongful(?:ly)?|pay\s+(?:us\s+)?back|"
    r"cancel\s+(?:that|the|this)\s+(?:invoice|charge))(?![\w'])",
    re.IGNORECASE,
)


def asks_back(text: str) -> bool:
    """Whether ``text`` asks for money back or a concession, or disputes a charge (so the amounts
    it names are a request, not a mention)."""
    return _ASKS.search(text) is not None
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6}


def parse_number(text: str) -> float:
    """A written number with thousands and decimal separators in any common style.

    >>> parse_number("24,000"), parse_number("1.200,50"), parse_number("1,5"), parse_number("3 000")
    (24000.0, 1200.5, 1.5, 3000.0)
    """
    s = re.sub(r"[ '\u00a0]", "", text)
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if dec == "," else ",", "").replace(dec, ".")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        parts = s.split(sep)
        s = "".join(parts) if len(parts) > 2 or len(parts[-1]) == 3 else ".".join(parts)
    return float(s)


@dataclass(frozen=True)
class Amount:
    value: float
    text: str  # as written, e.g. "$24,000"
    currency: str  # symbol or code as written ("$", "EUR"), "" when none was given
    kind: str  # what the money is for: refund, credit, discount, compensation, charge


_KINDS = re.compile(
    r"(?P<discount>discount\w*|rebate|price\s+(?:reduction|cut|match)|(?<=%)\s*off|per\s*cent\s+off)|(?P<credit>credit\w*|goodwill)|"
    r"(?P<compensation>compensat\w*)|(?P<waiver>waive\w*|write\s+off)|(?P<refund>refund\w*|money\s+back|chargeback|reimburs\w*)",
    re.IGNORECASE,
)


def _kind(sentence: str, at: int) -> str:
    """What the amount at ``at`` is for: the nearest refund/credit/discount word (refund if none)."""
    best, kind = None, "refund"
    for m in _KINDS.finditer(sentence):
        d = abs(m.start() - at)
        if best is None or d < best:
            best, kind = d, m.lastgroup or "refund"
    return kind


def amounts(text: str) -> list[Amount]:
    """Money amounts written in ``text`` in sentences about refunds, credits, discounts or charges."""
    out: list[Amount] = []
    for sentence in _sentences(text):
        if not _DIGIT.search(sentence) or not _MONEY_CONTEXT.search(sentence):
            continue
        for m in _AMOUNT.finditer(sentence):
            num = m.group("n1") or m.group("n2") or m.group("n3")
            mult = (m.group("m1") or m.group("m2") or m.group("m3") or "").strip().lower()
            try:
                value = parse_number(num) * _MULTIPLIERS.get(mult, 1.0)
            except ValueError:
                continue
            currency = (m.group("pre") or m.group("post") or "").strip()
            text = m.group(0).strip()
            pct = _share(sentence, m.start()) if "%" in sentence or "cent" in sentence else None
            if pct is not None:
                # "a 40% discount on our $50k renewal" asks for 40 % of it, not the whole $50k.
                value, text = value * pct[0] / 100.0, f"{pct[1]} of {text}"
            out.append(Amount(value, text, currency, _kind(sentence, m.start())))
    return out


_PERCENT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,]\d+)?)\s?(?:%|percent(?![\w'])|per\s+cent(?![\w']))", re.IGNORECASE)
# Between "40%" and the amount it is a share of: "discount on our", "off the", "of the annual".
_SHARE_OF = re.compile(r"(?<![\w'])(?:on|of|off|from|for|against)(?![\w'])", re.IGNORECASE)
_SHARE_GAP = 40  # characters between the percentage and the amount


def _share(sentence: str, at: int) -> tuple[float, str] | None:
    """The percentage the amount at ``at`` is taken of ("15% off the 8,000 EUR invoice"), if any."""
    best = None
    for p in _PERCENT.finditer(sentence, 0, at):
        gap = sentence[p.end() : at]
        if len(gap) <= _SHARE_GAP and not _DIGIT.search(gap) and _SHARE_OF.search(gap):
            best = p
    if best is None:
        return None
    try:
        pct = parse_number(best.group(1))
    except ValueError:
        return None
    return (pct, best.group(0)) if 0 < pct <= 100 else None


_DIGIT = re.compile(r"\d")
# Runs of plain characters are taken whole ([^...]+), not one alternation per character: the
# same sentences, three times faster.
_SENTENCE = re.compile(r"(?:[^.!?\n]+|\.(?=\w))+[.!?]*")


def _sentences(text: str) -> list[str]:
    return _SENTENCE.findall(text)
