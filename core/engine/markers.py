"""What a ticket is about, read from the customer's words: the markers behind the decision model.

Trigger phrases (core/engine/escalation.py) are fixed word lists; the markers here are patterns
for kinds of tickets that customers describe in countless ways: an incident ("checkout fails for
all our shoppers", "every record we created yesterday is gone"), a security incident in progress
("we can see another company's invoices"), a regression after a release, a reproducible defect,
a data or export problem, a how-to question, a request for a manager, repeated contact, and the
money a refund or credit is about ("$24,000", "24k", "EUR 1.200,50").

Every pattern is whole-word and case-insensitive, allows inflections ("fail", "fails", "failing"),
and skips hits that are negated ("nothing is missing", "no data was lost") or hypothetical ("what
happens if the site is down?"). Each pattern runs only when its key words occur in the ticket's
word set, so a ticket that mentions none of them costs a few set look-ups.

Pure: text in, ``Markers`` out. ``TicketText.markers`` computes them once per ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from deskwatch.core.engine.lazy import lazy
from deskwatch.core.engine.text import is_negated, word_set

# -- vocabularies (regex fragments) ------------------------------------------------------------

_FAIL = (
    r"(?:fail(?:s|ed|ing|ure|ures)?|broken|breaks?|breaking|broke|crash(?:es|ed|ing)?|down|outage|"
    r"unavailable|unreachable|offline|"
    r"not\s+(?:working|loading|responding|going\s+through|available|reachable|saving|syncing|opening)|"
    r"(?:doesn't|does\s+not|don't|do\s+not|won't|will\s+not|can't|cannot|can\s+not|didn't|did\s+not|isn't|aren't)\s+"
    r"(?:work|load|open|respond|go\s+through|connect|sync|save|submit|process|complete|working|loading)|"
    r"stopped\s+working|no\s+longer\s+works?|errors?|5\d\d|timed?\s*out|times\s+out|declin(?:ed|es|ing)|"
    r"rejected|stuck|hangs?|hanging|freez(?:es|ing)|froze)"
)
_FAIL_WORDS = frozenset(
    "fail fails failed failing failure failures broken break breaks breaking broke crash crashes crashed crashing "
    "down outage unavailable unreachable offline not doesn't don't won't can't cannot didn't isn't aren't stopped "
    "longer error errors timeout timed times declined declines declining rejected stuck hang hangs hanging "
    "freezes freezing froze 500 502 503 504".split()
)

_FAILURE = re.compile(rf"(?<![\w']){_FAIL}(?![\w'])", re.IGNORECASE)

_BROAD = re.compile(
    r"(?<![\w'])(?:"
    r"(?:all|every|each|none|most|half)\s+(?:of\s+)?(?:our|the|my|their|your|its)?\s*(?:[\w-]+\s+)?"
    r"(?:users|customers|shoppers|clients|employees|staff|agents|members|people|buyers|visitors|stores|shops|"
    r"locations|sites|branches|offices|teams|accounts|patients|students|drivers|colleagues|workspaces|tenants|"
    r"orders|transactions|payments|checkouts|merchants|subscribers|guests|riders|dispatchers|reps|sellers)"
    r"|(?:nobody|no\s+one|no-one)\s+(?:\w+\s+)?(?:can|could|is|was|has|gets|manages|at|in|on)"
    r"|(?:everyone|everybody)\s+(?:in|at|on|here|is|was|gets|got|sees|has|can't|cannot|else|who)"
    r"|for\s+(?:everyone|everybody|all\s+(?:of\s+)?us)"
    r"|(?:whole|entire)\s+(?:team|company|organi[sz]ation|office|department|staff|site|platform|workspace|account|shop|store)"
    r"|company-wide|site-wide|across\s+the\s+board|in\s+production|production\s+(?:is|was)"
    r"|\d{2,}(?:,\d{3})*\+?\s+(?:of\s+(?:our|my)\s+)?(?:people|users|employees|agents|staff|customers|members|"
    r"colleagues|shoppers|stores|locations|clients|seats|orders|transactions|payments|merchants)"
    r")(?![\w'])",
    re.IGNORECASE,
)
_BROAD_WORDS = frozenset(
    "all every each none most half nobody no no-one everyone everybody whole entire company-wide site-wide "
    "board production".split()
)

_PAYMENT = (
    r"(?:checkouts?|check-?outs?|payments?|card\s+payments?|transactions?|purchases?|orders?|billing\s+run|"
    r"pay(?:ing)?|card\s+processing|payment\s+processing|cart)"
)
_PAYMENT_WORDS = frozenset(
    "checkout checkouts check payment payments transaction transactions purchase purchases order orders "
    "billing pay paying card cart".split()
)
_PAYMENTS_FAIL = re.compile(
    rf"(?<![\w'])(?:{_PAYMENT}(?:[^.!?\n]{{0,50}}?){_FAIL}|{_FAIL}(?:[^.!?\n]{{0,30}}?)(?:at|on|during|in|to)\s+"
    rf"(?:the\s+)?{_PAYMENT}|(?:can't|cannot|can\s+not|unable\s+to|couldn't)\s+(?:\w+\s+)?(?:pay|check\s*out|"
    rf"complete\s+(?:a\s+|their\s+|the\s+)?(?:purchase|order|payment|checkout)))(?![\w'])",
    re.IGNORECASE,
)

_OUTAGE = re.compile(
    r"(?<![\w'])(?:outage|(?:is|are|was|went|goes|has\s+gone|have\s+gone)\s+down|down\s+for\s+(?:us|everyone|all|hours)"
    r"|(?:site|app|application|service|platform|system|website|portal|api|server|servers|production|workspace|"
    r"dashboard|instance|login|sign-?in)\s+(?:is\s+|are\s+|was\s+|seems\s+|keeps\s+)?(?:down|unavailable|unreachable|"
    r"offline|not\s+loading|not\s+responding|timing\s+out|crashing)"
    r"|(?:can't|cannot|can\s+not|unable\s+to|couldn't|could\s+not)\s+(?:reach|access|load|open|log\s*in(?:to)?|"
    r"sign\s*in(?:to)?|connect\s+to|get\s+into)\s*(?:the\s+|your\s+|our\s+)?(?:app|application|site|website|platform|"
    r"service|system|dashboard|portal|workspace|api|server|product|tool)?"
    r"|(?:nobody|no\s+one|none\s+of\s+(?:us|our\s+\w+|the\s+\w+))(?:\s+[\w']+){0,4}?\s+(?:can|could|is\s+able\s+to)\s+(?:log\s*in|sign\s*in|"
    r"access|reach|load|open|connect|get\s+in)"
    r"|5\d\d\s+(?:internal\s+server\s+|server\s+)?errors?|internal\s+server\s+errors?|bad\s+gateway|"
    r"service\s+unavailable|gateway\s+time-?out|(?:http|error|status)\s+5\d\d|5\d\d\s+(?:bad|service|gateway)"
    r"|(?:returns?|returning|throws?|throwing|gives?|giving|getting|get|got)\s+(?:an?\s+|the\s+)?5\d\d)(?![\w'])",
    re.IGNORECASE,
)
_OUTAGE_WORDS = frozenset(
    "outage down unavailable unreachable offline loading responding can't cannot unable couldn't could "
    "500 502 503 504 gateway internal timing crashing".split()
)

_DATA_NOUN = (
    r"(?:data|records?|entries|entry|files?|documents?|docs|tickets?|orders?|contacts?|projects?|work|history|notes?|"
    r"invoices?|reports?|rows?|items?|messages?|emails?|photos?|attachments?|uploads?|everything|changes|content|"
    r"customers?|leads?|deals?|tasks?|posts?|pages?|database|spreadsheets?|timesheets?|transactions?|bookings?|"
    r"appointments?|events?|products?|listings?|submissions?|responses?|accounts?|folders?|boards?|cards?|"
    r"dashboards?|settings|configuration|inventory|stock)"
)
# What can be "lost" as data: "lost a day's work", "lost all our notes" (not "losing orders": sales).
_WORK_NOUN = (
    r"(?:data|records?|entries|files?|documents?|docs|work|history|notes?|projects?|contacts?|emails?|messages?|"
    r"photos?|attachments?|uploads?|changes|content|database|spreadsheets?|timesheets?|settings|configuration|edits|"
    r"progress|drafts?)"
)
_LOSS = (
    r"(?:gone|lost|deleted|wiped(?:\s+out)?|erased|disappeared|vanished|overwritten|purged|corrupted|"
    r"missing(?!\s+(?:a|an|the|some|one|two|its|their|our|in\s+the|from\s+the\s+\w+\s+list)\b))"
)
_QUANT = r"(?:(?:all|every|each|any|none|most|\d+)\s+(?:of\s+)?(?:the\s+|our\s+|my\s+|their\s+|your\s+)?)?"
_DATA_LOSS = re.compile(
    rf"(?<![\w'])(?:"
    rf"{_QUANT}{_DATA_NOUN}(?![\w'])[^.!?\n]{{0,80}}?(?:is|are|was|were|has\s+been|have\s+been|got|gets|get|seems?\s+to\s+(?:be|have)|"
    rf"appears?\s+to\s+(?:be|have)|just|all|completely|simply|now|been)\s+(?:all\s+|completely\s+|just\s+|been\s+|simply\s+)?{_LOSS}"
    rf"|{_QUANT}{_DATA_NOUN}(?![\w'])[^.!?\n]{{0,40}}?(?:disappeared|vanished|got\s+wiped|got\s+deleted|got\s+erased)"
    rf"|(?:lost|losing|lose)\s+(?:all\s+(?:of\s+)?|everything|an?\s+(?:whole\s+|full\s+|entire\s+)?(?:day|week|month|morning)'?s?\s+"
    rf"(?:worth\s+)?(?:of\s+)?|(?:\w+\s+){{0,2}}(?:days?|hours?|weeks?|months?)\s+(?:worth\s+)?(?:of\s+)?|some\s+)?"
    rf"(?:our\s+|their\s+|my\s+|the\s+|his\s+|her\s+)?(?:{_WORK_NOUN}|everything)"
    rf"|data\s+loss|data\s+(?:is|was|has\s+been|got)\s+(?:lost|wiped|erased|destroyed)"
    rf"|wiped\s+(?:out\s+)?(?:all|our|every|the\s+whole|the\s+entire)"
    rf")(?![\w'])",
    re.IGNORECASE,
)
_LOSS_WORDS = frozenset(
    "gone lost losing lose deleted wiped erased disappeared vanished overwritten purged corrupted missing loss".split()
)
_SELF_INFLICTED = re.compile(r"\b(?:i|we)\s+(?:accidentally|mistakenly|by\s+mistake|inadvertently)\b|\bby\s+mistake\b", re.I)

_OTHER_PARTY = re.compile(
    r"(?<![\w'])(?:(?:another|other|a\s+different|different|the\s+wrong|a\s+wrong|wrong|unknown|random|foreign)\s+"
    r"(?:(?:company|companies|customer|customers|client|clients|organi[sz]ations?|tenants?|accounts?|"
    r"business(?:es)?|firms?|shops?|stores?|practices?|schools?|merchants?|workspaces?)(?:'s|s'|')?"
    # a colleague is "another user": only another user's or other people's things are someone else's
    r"|(?:users?|people|person)(?:'s|s'|'))"
    r"|(?:someone|somebody|anyone|anybody)\s+else's|strangers?(?:'s|s'))(?![\w'])",
    re.IGNORECASE,
)
_OTHER_WORDS = frozenset("another other different wrong else else's stranger strangers stranger's unknown random foreign".split())
_SEE = re.compile(
    r"(?<![\w'])(?:see|sees|seeing|saw|seen|view|viewing|viewed|visible|shows?|showing|shown|display(?:s|ed|ing)?|"
    r"access(?:es|ed|ing)?|receiv(?:e|es|ed|ing)|got|getting|download(?:s|ed|ing)?|exposed|leak(?:s|ed|ing)?|"
    r"appear(?:s|ed|ing)?|pops?\s+up|open(?:s|ed)?|log(?:s|ged)?\s+in(?:to)?|sign(?:s|ed)?\s+in(?:to)?|"
    r"look(?:s|ing)?\s+at|into|inside|contains?|containing|lists?|listed|belongs?|belonging)(?![\w'])",
    re.IGNORECASE,
)
_TAKEOVER = re.compile(
    r"(?<![\w'])(?:account\s+takeover|taken\s+over|hijack(?:ed|ing)?|hacked|compromised|breached|data\s+breach|"
    r"security\s+breach|ransomware|credentials?\s+(?:were\s+|was\s+|have\s+been\s+)?(?:exposed|leaked|stolen)|"
    r"unauthori[sz]ed\s+(?:access|logins?|sign-?ins?|users?|changes|transfers?)|"
    r"(?:someone|somebody|a\s+stranger)\s+(?:has\s+)?(?:logged|signed|got|gotten|broke|broken)\s+in(?:to)?|"
    r"(?:password|e-?mail|2fa|mfa)\s+(?:was\s+|has\s+been\s+|got\s+)?changed\s+without|locked\s+(?:me\s+|us\s+)?out\s+of\s+"
    r"(?:my|our)\s+(?:own\s+)?account\s+and|leaked)(?![\w'])",
    re.IGNORECASE,
)
_TAKEOVER_WORDS = frozenset(
    "takeover taken hijack hijacked hijacking hacked compromised breached breach ransomware credentials credential "
    "unauthorized unauthorised someone somebody stranger password email e-mail 2fa mfa locked leaked".split()
)

_REGRESSION = re.compile(
    r"(?<![\w'])(?:(?:since|after|following|with)\s+(?:your|the|last\s+night's|yesterday's|today's|this\s+morning's|"
    r"last\s+week's|this|that|an?|my|our)\s+(?:latest\s+|recent\s+|new\s+|last\s+|most\s+recent\s+|big\s+|weekend\s+|"
    r"overnight\s+|scheduled\s+|system\s+|platform\s+|app\s+|database\s+|data\s+)?(?:updates?|upgrades?|releases?|deploy(?:ment)?s?|"
    r"migrations?|versions?|patch(?:es)?|rollouts?|roll-outs?|changes|hotfix(?:es)?|maintenance|redesign|rebuild|go-live)"
    r"|(?:since|after)\s+(?:you|they)\s+(?:updated|upgraded|released|deployed|migrated|patched|changed|moved)"
    r"|(?:since|after)\s+(?:the\s+)?(?:update|upgrade|migration|release|deploy)\s+(?:to|of)"
    r"|no\s+longer\s+\w+|used\s+to\s+work|worked\s+(?:fine|perfectly|great|well|yesterday|before|until|last\s+week|this\s+morning)|"
    r"(?:was|were)\s+working\s+(?:fine|perfectly|before|yesterday|until|last\s+week)|no\s+longer\s+works?|"
    r"stopped\s+working\s+(?:after|since|when)|(?:broke|broken)\s+(?:after|since|with|by)|regression|"
    r"(?:new|latest|last|recent)\s+(?:version|release|update|upgrade|deploy(?:ment)?)\s+(?:broke|breaks|has\s+broken|broken))(?![\w'])",
    re.IGNORECASE,
)
_REGRESSION_WORDS = frozenset(
    "since after following used worked working longer stopped broke broken regression version".split()
)
_REPRO = re.compile(
    r"(?<![\w'])(?:steps\s+to\s+reproduce|reproducible|reproduc(?:e|ed|es|ing)\s+(?:it|this|the|on|in|with|reliably|"
    r"every)|can\s+reproduce|every\s+(?:single\s+)?time|each\s+time|consistently|100\s?%\s+of\s+the\s+time|"
    r"always\s+(?:fails|crashes|returns|throws|errors|breaks|shows)|happens\s+(?:every|each|always)|"
    r"stack\s*trace|traceback|null\s*pointer|exception\s+(?:thrown|in|at)|throws?\s+an?\s+(?:error|exception)|"
    r"bug)(?![\w'])",
    re.IGNORECASE,
)
_REPRO_WORDS = frozenset(
    "steps reproducible reproduce reproduced reproduces reproducing every each consistently 100 always happens "
    "stack stacktrace traceback null nullpointer exception throws throw bug".split()
)
_DATA_PROBLEM = re.compile(
    rf"(?<![\w'])(?:(?:exports?|exporting|imports?|importing|sync(?:s|ing|ed)?|synchroni[sz]ation|csv|reports?|"
    rf"data|totals?|numbers|figures|integrations?|webhooks?|api|sso|saml|scim|oauth)(?![\w'])"
    rf"[^.!?\n]{{0,50}}?{_FAIL}"
    rf"|(?:wrong|incorrect|duplicated?|mismatch\w*|inconsistent|corrupt\w*|stale|outdated)\s+(?:data|numbers|totals|"
    rf"records|values|figures|amounts|entries|results))(?![\w'])",
    re.IGNORECASE,
)
_DATA_WORDS = frozenset(
    "export exports exporting import imports importing sync syncs syncing synced synchronization synchronisation "
    "csv report reports dashboard dashboards data total totals numbers figures integration integrations webhook "
    "webhooks api sso saml scim oauth wrong incorrect duplicate duplicated mismatch inconsistent corrupt corrupted "
    "stale outdated".split()
)
_HOWTO = re.compile(
    r"(?<![\w'])(?:how\s+(?:do|can|should|would|could)\s+(?:i|we|you|one|my|our)|how\s+to|where\s+(?:do|can|would)\s+"
    r"(?:i|we)|where\s+(?:is|are)\s+the|is\s+(?:there|it)\s+(?:a\s+way|possible|an?\s+option)|are\s+there\s+any|"
    r"can\s+(?:i|we|you)\s+(?:change|set|add|export|download|get|use|invite|create|update|configure|rename|"
    r"remove|enable|disable|turn|switch|find|see|share|print|schedule|customi[sz]e|import)|"
    r"what'?s?\s+(?:is\s+)?the\s+(?:best|easiest|right)\s+way|reset\s+(?:my|our|a|the)\s+password|"
    r"forgot\s+(?:my|our)\s+password|(?:any|some)\s+(?:docs|documentation|guide|tutorial|article)|"
    r"point\s+me\s+to|quick\s+question|wondering\s+(?:if|whether|how))(?![\w'])",
    re.IGNORECASE,
)
_HOWTO_WORDS = frozenset("how where is are can what what's whats reset forgot any some point quick wondering".split())

_MANAGER = re.compile(
    r"(?<![\w'])(?:(?:speak|talk|escalate|escalating|put\s+me\s+through|connect\s+me|get\s+me|want|need|demand|"
    r"request|ask(?:ing)?\s+for|insist\s+on|like|let\s+me)\b[^.!?\n]{0,40}?(?:a\s+|your\s+|the\s+|my\s+)?"
    r"(?:manager|supervisor|management|someone\s+(?:senior|in\s+charge|more\s+senior|higher\s+up|with\s+authority)|"
    r"boss|team\s+lead(?:er)?|head\s+of\s+(?:support|customer\s+\w+|service)|ceo|director|superior|higher\s+up)"
    r"|(?:who\s+is|who's|who\s+are)\s+(?:your|the)\s+(?:manager|supervisor|boss|superior|management)"
    r"|formal\s+complaint|file\s+a\s+complaint|lodge\s+a\s+complaint)(?![\w'])",
    re.IGNORECASE,
)
_MANAGER_WORDS = frozenset(
    "manager supervisor management senior charge boss lead leader head ceo director superior higher escalate "
    "complaint".split()
)
_REPEATED = re.compile(
    r"(?<![\w'])(?:(?:third|3rd|fourth|4th|fifth|5th|sixth|6th|seventh|tenth|umpteenth|nth|\d+th)\s+(?:time|email|message|"
    r"call|ticket|request|attempt|follow-?up|reminder)|(?:three|four|five|six|several|many|multiple|countless|numerous|"
    r"\d+)\s+(?:times|emails|messages|calls|tickets|requests|follow-?ups|reminders)\s+(?:now|already|so\s+far|about|"
    r"regarding|and|but|with|without)|again\s+and\s+again|over\s+and\s+over|yet\s+again|time\s+and\s+(?:time\s+)?again|"
    r"how\s+many\s+(?:more\s+)?times|keep\s+(?:having\s+to|asking|telling|writing|chasing|getting\s+the\s+same)|"
    r"still\s+(?:not\s+(?:been\s+)?(?:resolved|fixed|solved|sorted|answered)|unresolved|no\s+(?:answer|reply|response|fix|solution))|"
    r"(?:no\s+one|nobody)\s+(?:has\s+)?(?:ever\s+)?(?:replied|responded|answered|gotten\s+back|got\s+back|called\s+back)|"
    r"being\s+ignored|keep\s+being\s+ignored|ignored\s+(?:again|for))(?![\w'])",
    re.IGNORECASE,
)
_REPEATED_WORDS = frozenset(
    "third 3rd fourth 4th fifth 5th sixth 6th seventh tenth umpteenth nth three four five six several many multiple "
    "countless numerous again over how keep still nobody ignored".split()
)

_HYPOTHETICAL = re.compile(
    r"(?<![\w'])(?:if|whether|would|could|might|will|what\s+happens|in\s+case|worried|afraid|concerned|hypothetically|"
    r"make\s+sure|prevent|avoid|risk)(?![\w'])",
    re.IGNORECASE,
)

# -- money -------------------------------------------------------------------------------------

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
    r"goodwill|rebate|price\s+(?:reduction|cut|match))(?![\w'])",
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
    r"(?P<discount>discount\w*|rebate|price\s+(?:reduction|cut|match))|(?P<credit>credit\w*|goodwill)|"
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
            out.append(Amount(value, m.group(0).strip(), currency, _kind(sentence, m.start())))
    return out


# -- the markers -------------------------------------------------------------------------------

# Anchor words: every match of a pattern contains one of its anchors, so a pattern runs only on
# the sentences that hold an anchor present in the ticket's word set, never over the whole text. Most tickets have no anchor of most patterns and cost a set intersection.
_A_OUTAGE = frozenset(
    "outage down unavailable unreachable offline loading responding timing crashing can't cannot unable couldn't "
    "500 502 503 504 gateway internal nobody none".split()
)
_A_FAIL = frozenset(
    "fail fails failed failing failure failures broken break breaks breaking broke crash crashes crashed crashing "
    "down outage unavailable unreachable offline working loading responding available reachable saving syncing "
    "opening work load open respond connect sync save submit process complete stopped longer error errors timed "
    "timeout times declined declines declining rejected stuck hang hangs hanging freezes freezing froze "
    "500 502 503 504 through".split()
)
_FAIL_STRONG = frozenset(
    "fail fails failed failing failure failures broken breaks breaking broke crash crashes crashed crashing "
    "outage unavailable unreachable offline stopped error errors timeout declined rejected stuck hangs hanging "
    "freezes freezing froze 500 502 503 504 bug".split()
)
_A_PAYMENT = frozenset(
    "checkout checkouts check check-out payment payments transaction transactions purchase purchases order orders "
    "billing pay paying card cart".split()
)
_A_TAKEOVER = frozenset(
    "takeover taken hijack hijacked hijacking hacked compromised breached breach ransomware credentials credential "
    "unauthorized unauthorised leaked locked logged signed".split()
)
_A_BROAD_WORDS = frozenset(
    "all every each none most half nobody no-one everyone everybody whole entire company-wide site-wide board "
    "production".split()
)
_A_HOWTO = frozenset("how where possible way can reset forgot docs documentation guide tutorial article point quick wondering".split())
_A_REPEATED = frozenset(
    "third 3rd fourth 4th fifth 5th sixth 6th seventh tenth umpteenth nth times emails messages calls tickets requests "
    "reminders again over many still nobody ignored keep".split()
)


# Anchors that are common words count only beside a companion word (any of them): "since" is an
# anchor of a regression only in a ticket that also names an update, a release or a migration.
_UPDATE = frozenset(
    "update updates upgrade upgrades release releases deploy deployment migration migrations version versions patch "
    "rollout rollouts changes hotfix maintenance redesign rebuild go-live updated upgraded released deployed migrated "
    "patched changed moved upgrading updating migrating".split()
)
_REPEAT_NOUNS = frozenset("time email message call ticket request attempt follow-up followup reminder".split())
_COUNTS = frozenset("three four five six several many multiple countless numerous".split()) | frozenset(map(str, range(2, 21)))
_ASKING = frozenset("speak talk escalate escalating put connect demand insist request want need like let ask asking get "
                    "complaint who who's".split())
_COMPANIONS: dict[str, dict[str, frozenset[str]]] = {
    "regression": {
        **{w: _UPDATE for w in ("since", "after", "following", "with")},
        **{w: frozenset("fine perfectly great well yesterday before until last morning".split()) for w in ("worked", "working")},
        "used": frozenset(["work"]),
        "longer": frozenset(["no"]),
        "stopped": frozenset(["after", "since", "when"]),
        **{w: frozenset("after since with by".split()) for w in ("broke", "broken")},
        "version": frozenset("broke breaks broken".split()),
    },
    "outage": {
        **{w: frozenset("reach access load open log login sign connect get into".split())
           for w in ("can't", "cannot", "unable", "couldn't")},
        **{w: frozenset("can could able".split()) for w in ("none", "nobody")},
        "down": frozenset("is are was went goes gone for site app service platform system website server servers "
                          "production workspace dashboard instance login".split()),
    },
    "repro": {
        "every": frozenset(["time"]),
        "each": frozenset(["time"]),
        "always": frozenset("fails crashes returns throws errors breaks shows".split()),
        "happens": frozenset("every each always".split()),
        "steps": frozenset(["reproduce"]),
        "exception": frozenset("thrown in at throws throw".split()),
    },
    "repeated": {
        **{w: _REPEAT_NOUNS for w in ("third", "3rd", "fourth", "4th", "fifth", "5th", "sixth", "6th", "seventh", "tenth",
                                       "umpteenth", "nth")},
        **{w: _COUNTS for w in ("times", "emails", "messages", "calls", "tickets", "requests", "reminders")},
        "again": frozenset("and yet time".split()),
        "over": frozenset(["and"]),
        "many": frozenset(["times"]),
        "still": frozenset("not unresolved no".split()),
        "keep": frozenset("having asking telling writing chasing getting being".split()),
        "nobody": frozenset("replied responded answered back".split()),
    },
    "manager": {w: _ASKING for w in ("manager", "supervisor", "management", "senior", "charge", "boss", "lead", "leader",
                                     "head", "ceo", "director", "superior", "higher")},
    "exception": {
        **{w: frozenset(["refund"]) for w in ("past", "after")},
        **{w: frozenset("policy window terms period".split()) for w in ("outside", "beyond")},
        "exception": frozenset("to policy make making grant granting".split()),
    },
}


# Support text repeats (macros quoted back, "Any update on this?", form submissions, the same
# complaint sent to three helpdesks), and a pattern's hits in a sentence depend on that sentence
# alone: negation and hypotheticals never reach across a sentence end. So hits are kept by
# (pattern, sentence), bounded like routing's remembered answers.
_HITS: dict[tuple[int, bool, str], tuple[str, ...]] = {}
_MAX_HITS = 8192


def _sentence_hits(pattern: re.Pattern[str], sentence: str, hypothetical_ok: bool) -> tuple[str, ...]:
    key = (id(pattern), hypothetical_ok, sentence)
    hits = _HITS.get(key)
    if hits is None:
        out = []
        for m in pattern.finditer(sentence):
            if is_negated(sentence, m.start()) if hypothetical_ok else not _real(sentence, m.start()):
                continue
            out.append(" ".join(m.group(0).split()))
        hits = tuple(out)
        if len(_HITS) >= _MAX_HITS:
            _HITS.clear()
        _HITS[key] = hits
    return hits


_DIGIT = re.compile(r"\d")


_NONE: dict[str, frozenset[str]] = {}


class Markers:
    """Evidence (the words as written) for each kind of marker in one sentence, each kind
    computed on first use (``TicketMarkers`` holds a ticket's, sentence by sentence)."""

    def __init__(self, text: str, words: frozenset[str]):
        self.text = text
        self.words = words

    @lazy
    def found(self) -> dict[str, tuple]:
        """Every kind with something found in this sentence (read once per distinct sentence)."""
        return {k: v for k in _KIND_NAMES if (v := getattr(self, k))}

    @lazy
    def relevant(self) -> bool:
        """Whether any marker can be found here at all: one of their anchor words, or a digit."""
        return not self.words.isdisjoint(_ALL_ANCHORS) or _DIGIT.search(self.text) is not None

    @lazy
    def sentences(self) -> tuple[tuple[str, str], ...]:
        """(sentence, lower-cased) pairs: patterns never reach across a sentence end."""
        return tuple((x, x.lower()) for x in _SENTENCE.findall(self.text))

    def _find(self, pattern: re.Pattern[str], anchors: frozenset[str], *, limit: int = 3,
              hypothetical_ok: bool = False, kind: str = "") -> tuple[str, ...]:
        words = self.words
        present = words & anchors
        if not present:
            return ()
        companions = _COMPANIONS.get(kind)
        if companions is not None:
            present = [a for a in present if (c := companions.get(a)) is None or not words.isdisjoint(c)]
            if not present:
                return ()
        found: list[str] = []
        for sentence, low in self.sentences:
            for a in present:
                if a in low:
                    break
            else:
                continue
            for hit in _sentence_hits(pattern, sentence, hypothetical_ok):
                if hit.lower() not in (f.lower() for f in found):
                    found.append(hit)
                    if len(found) >= limit:
                        return tuple(found)
        return tuple(found)

    @lazy
    def outage(self) -> tuple[str, ...]:
        """The service down or failing (500s, can't reach the app)."""
        return self._find(_OUTAGE, _A_OUTAGE, kind="outage")

    @lazy
    def failure(self) -> tuple[str, ...]:
        """Words saying something fails, errors or is broken (a word-set check: it only ever
        qualifies other markers, which do their own negation checks)."""
        return tuple(sorted(self.words & _FAIL_STRONG))

    @lazy
    def payments(self) -> tuple[str, ...]:
        """Checkout or payments failing."""
        if self.words.isdisjoint(_A_PAYMENT) or not self.failure:
            return ()
        return self._find(_PAYMENTS_FAIL, _A_PAYMENT | {"can't", "cannot", "unable", "couldn't"})

    @lazy
    def broad(self) -> tuple[str, ...]:
        """Many people affected ("all our shoppers", "40 people", "nobody can")."""
        anchors = set(self.words & _A_BROAD_WORDS)
        if "no" in self.words and "one" in self.words:
            anchors.add("no")
        if not anchors and not _DIGIT.search(self.text):
            return ()
        anchors.update(w for w in self.words if w[:1].isdigit() and len(w) > 1)
        return self._find(_BROAD, frozenset(anchors), hypothetical_ok=True)

    @lazy
    def data_loss(self) -> tuple[str, ...]:
        """Data gone, deleted, wiped: several records, or data as a whole (one missing item is
        a data problem, not an incident). Not what the customer deleted by mistake."""
        if self.words.isdisjoint(_LOSS_WORDS):
            return ()
        return tuple(f for f in self._find(_DATA_LOSS, _LOSS_WORDS) if _many(f))

    @lazy
    def exposure(self) -> tuple[str, ...]:
        """Someone sees another party's data."""
        if self.words.isdisjoint(_OTHER_WORDS):
            return ()
        return _exposure(self.text)

    @lazy
    def takeover(self) -> tuple[str, ...]:
        """An account taken over, a breach."""
        return self._find(_TAKEOVER, _A_TAKEOVER)

    @lazy
    def regression(self) -> tuple[str, ...]:
        """Broke after a release, update or migration."""
        return self._find(_REGRESSION, _REGRESSION_WORDS, kind="regression")

    @lazy
    def repro(self) -> tuple[str, ...]:
        """A reproducible defect."""
        return self._find(_REPRO, _REPRO_WORDS, kind="repro")

    @lazy
    def data_problem(self) -> tuple[str, ...]:
        """Exports, imports, syncs, integrations failing; wrong data."""
        if self.words.isdisjoint(_DATA_WORDS):
            return ()
        return self._find(_DATA_PROBLEM, _DATA_WORDS)

    @lazy
    def howto(self) -> tuple[str, ...]:
        """A how-to question."""
        return self._find(_HOWTO, _A_HOWTO, hypothetical_ok=True)

    @lazy
    def manager(self) -> tuple[str, ...]:
        """The customer asks for a manager or files a complaint."""
        return self._find(_MANAGER, _MANAGER_WORDS, hypothetical_ok=True, kind="manager")

    @lazy
    def repeated(self) -> tuple[str, ...]:
        """ "third time", "how many times", "still no answer"."""
        return self._find(_REPEATED, _A_REPEATED, hypothetical_ok=True, kind="repeated")

    @lazy
    def exception(self) -> tuple[str, ...]:
        """Asks for a policy exception."""
        return self._find(_EXCEPTION, _EXCEPTION_WORDS, hypothetical_ok=True, kind="exception")

    @lazy
    def money(self) -> tuple[Amount, ...]:
        """Amounts in sentences about refunds, credits, discounts, charges."""
        if self.words.isdisjoint(_MONEY_WORDS) or not _DIGIT.search(self.text):
            return ()
        return tuple(amounts(self.text))

    @property
    def incident(self) -> bool:
        """An incident by the customer's own words: data loss, a security incident in
        progress, or an outage or payment failure that reaches many people."""
        return bool(self.data_loss or self.exposure or self.takeover or ((self.outage or self.payments) and self.broad))


# Data loss is an incident when it is plural or whole ("records are gone", "all our data", "lost a
# day's work"); one missing invoice is a data problem for the experts, not a reason to wake anyone.
_QUANTIFIERS = frozenset("all every everything entire whole any none most".split())
_MASS = frozenset("data work history database content inventory stock everything configuration settings".split())
_NOT_PLURAL = frozenset("is was has this its does goes".split())


def _many(found: str) -> bool:
    words = [w.strip("'\".,") for w in found.lower().split()]
    if any(w in _QUANTIFIERS or w.isdigit() for w in words) or "loss" in words:
        return True
    return any(n in _MASS or (n.endswith("s") and len(n) > 3 and n not in _NOT_PLURAL) for n in (words[0], words[-1]))


# A sentence ends at . ! ? or a line break, but not at the point of "1.200,50" or "v2.3".
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\w))+[.!?]*")


def _sentences(text: str) -> list[str]:
    return _SENTENCE.findall(text)


def _real(text: str, start: int) -> bool:
    """Not negated, and not inside a hypothetical or a question about what could happen."""
    if is_negated(text, start):
        return False
    begin = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
    return _HYPOTHETICAL.search(text, begin, start) is None


# What exposed data is: another user's *comment* on a shared board is collaboration, another
# company's *invoices* are a breach.
_EXPOSED = re.compile(
    r"(?<![\w'])(?:data|records?|invoices?|orders?|files?|documents?|details|information|info|payslips?|salar(?:y|ies)|"
    r"emails?|messages?|tickets?|contacts?|customers?|accounts?|address(?:es)?|reports?|dashboards?|transactions?|"
    r"payments?|statements?|receipts?|patients?|profiles?|names|numbers|bookings?|appointments?|photos?|attachments?|"
    r"credit\s+cards?|cards?|bills?|billing|projects?|workspaces?|leads?|deals?|inbox|chats?|conversations?)(?![\w'])",
    re.IGNORECASE,
)


def _exposure(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for sentence in _sentences(text):
        m = _OTHER_PARTY.search(sentence)
        if m is None or not _SEE.search(sentence) or not _EXPOSED.search(sentence) or not _real(sentence, m.start()):
            continue
        # The words around the other party, cut at word boundaries: "I see another company's invoices".
        a = sentence.rfind(" ", 0, max(0, m.start() - 30)) + 1
        b = sentence.find(" ", m.end() + 12)
        found.append(" ".join(sentence[a : b if b >= 0 else len(sentence)].split()).strip(" ,.;"))
    return tuple(found[:2])


_KIND_NAMES = ("outage", "failure", "payments", "broad", "data_loss", "exposure", "takeover", "regression", "repro",
          "data_problem", "howto", "manager", "repeated", "exception", "money")
# Markers by sentence text: support text repeats (macros quoted back, "Any update on this?", form
# submissions, the same complaint sent to three helpdesks) and no pattern reaches across a sentence
# end, so a sentence read once is read for every ticket that contains it. Bounded, like routing's
# remembered answers.
_BY_SENTENCE: dict[str, Markers] = {}
_BY_PIECE: dict[str, tuple[Markers, ...]] = {}
_MAX_SENTENCES = 8192


def _sentence_markers(sentence: str) -> Markers:
    m = _BY_SENTENCE.get(sentence)
    if m is None:
        if len(_BY_SENTENCE) >= _MAX_SENTENCES:
            _BY_SENTENCE.clear()
        m = _BY_SENTENCE[sentence] = Markers(sentence, word_set(sentence))
    return m


def _piece_markers(piece: str) -> tuple[Markers, ...]:
    """The sentences of one piece (a subject, a message) that hold a word some marker starts from."""
    parts = _BY_PIECE.get(piece)
    if parts is None:
        if len(_BY_PIECE) >= _MAX_SENTENCES:
            _BY_PIECE.clear()
        parts = _BY_PIECE[piece] = tuple(m for m in map(_sentence_markers, _SENTENCE.findall(piece)) if m.relevant)
    return parts


class TicketMarkers:
    """A ticket's markers: each kind is the union of its sentences' (``Markers``). ``pieces`` are
    the subject and what the customer newly wrote in each message."""

    def __init__(self, pieces: tuple[str, ...]):
        self.pieces = pieces

    @lazy
    def text(self) -> str:
        return "\n".join(self.pieces)

    @lazy
    def found(self) -> dict[str, tuple]:
        """Kind -> what was found, in order, without repeats (three at most, all amounts)."""
        merged: dict[str, list] = {}
        for piece in self.pieces:
            for part in _piece_markers(piece):
                for kind, hits in part.found.items():
                    have = merged.setdefault(kind, [])
                    have.extend(h for h in hits if h not in have)
        return {k: tuple(v) if k == "money" else tuple(v[:3]) for k, v in merged.items()}

    @property
    def incident(self) -> bool:
        """An incident by the customer's own words: data loss, a security incident in
        progress, or an outage or payment failure that reaches many people."""
        return bool(self.data_loss or self.exposure or self.takeover or ((self.outage or self.payments) and self.broad))


def _kind_property(kind: str) -> lazy:
    def get(self: TicketMarkers) -> tuple:
        found = self.found.get(kind, ())
        if kind == "data_loss" and found and _SELF_INFLICTED.search(self.text):
            return ()  # "we accidentally deleted a project": a restore request, not an incident
        return found

    get.__name__ = kind
    get.__doc__ = getattr(Markers, kind).__doc__
    prop = lazy(get)
    prop.__set_name__(TicketMarkers, kind)
    return prop


for _k in _KIND_NAMES:
    setattr(TicketMarkers, _k, _kind_property(_k))


def find_markers(pieces: tuple[str, ...]) -> TicketMarkers:
    """The markers of a ticket's ``pieces``: its subject and what the customer newly wrote."""
    return TicketMarkers(pieces)


_MONEY_WORDS = frozenset(
    "refund refunds refunded refunding credit credits credited discount discounts reimburse reimbursed "
    "reimbursement compensation compensate charge charges charged charging chargeback money waive waived overcharged "
    "overbilled billed paid payment invoice invoices invoiced fee fees goodwill rebate price".split()
)


def flatten(groups: Iterable[tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for g in groups:
        for e in g:
            if e not in out:
                out.append(e)
    return out


# The anchors of the markers management reads (core/engine/levels.py checks them all at once).
MANAGEMENT_WORDS = _MANAGER_WORDS | _A_REPEATED | _MONEY_WORDS | _EXCEPTION_WORDS
_ALL_ANCHORS = (
    MANAGEMENT_WORDS | _A_OUTAGE | _FAIL_STRONG | _A_PAYMENT | _A_BROAD_WORDS | _LOSS_WORDS | _OTHER_WORDS | _A_TAKEOVER
    | _REGRESSION_WORDS | _REPRO_WORDS | _DATA_WORDS | _A_HOWTO | frozenset(["one", "can't", "cannot", "unable", "couldn't"])
)
