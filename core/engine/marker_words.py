"""The vocabularies behind the markers (core/engine/markers.py): regex fragments for failures,
outages, data loss, exposure, takeover, regressions, how-to questions, requests for a manager and
repeated contact, each with the key words that must occur before its pattern is tried."""

from __future__ import annotations

import re

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

# Who or what a failure can reach many of: people (any trade), and the things they run through us.
_MANY = (
    r"(?:users?|customers?|shoppers?|clients?|employees?|staff|agents?|members?|people|ppl|folks|buyers?|visitors?|"
    r"stores?|shops?|locations?|sites?|branches|branch|offices?|teams?|accounts?|patients?|students?|drivers?|"
    r"colleagues?|workspaces?|tenants?|orders?|transactions?|payments?|checkouts?|merchants?|subscribers?|guests?|"
    r"riders?|dispatchers?|reps?|sellers?|vendors?|partners?|doctors?|nurses?|therapists?|technicians?|cashiers?|"
    r"operators?|admins?|devices?|terminals?|calls|requests|emails|notifications|payouts?|api\s+calls|"
    r"requests|integrations|warehouses?|restaurants?|clinics?|schools?|franchisees?)"
)
_BROAD = re.compile(
    r"(?<![\w'])(?:"
    rf"(?:all|every|each|none|most|half|any\s+of)\s+(?:of\s+)?(?:our|the|my|their|your|its)?\s*(?:[\w-]+\s+)?{_MANY}"
    # "our shoppers all get an error", "the drivers all see it"
    rf"|(?:our|my|the|their)\s+(?:[\w-]+\s+)?{_MANY}\s+(?:all|each|both)(?![\w'])"
    # "not loading for any of our users": the negation is part of the breadth, so it is matched with it
    rf"|(?:not|never|\w+n't|cannot)\s+(?:[\w-]+\s+){{0,3}}?(?:for|to|by|from)\s+any\s+(?:of\s+)?(?:our|the|my|their)\s+"
    rf"(?:[\w-]+\s+)?{_MANY}"
    r"|(?:nobody|no\s+one|no-one)\s+(?:\w+\s+)?(?:can|could|is|was|has|gets|manages|at|in|on)"
    r"|(?:everyone|everybody)\s+(?:in|at|on|here|is|was|gets|got|sees|has|can't|cannot|else|who)"
    r"|for\s+(?:everyone|everybody|all\s+(?:of\s+)?us)"
    r"|(?:whole|entire)\s+(?:team|company|organi[sz]ation|office|department|staff|site|platform|workspace|account|shop|store)"
    r"|company-wide|site-wide|across\s+the\s+board|in\s+production|production\s+(?:is|was)"
    rf"|\d{{2,}}(?:,\d{{3}})*\+?\s+(?:of\s+(?:our|my)\s+)?(?:{_MANY}|seats)"
    r")(?![\w'])",
    re.IGNORECASE,
)
_BROAD_WORDS = frozenset(
    "all every each none most half nobody no no-one everyone everybody whole entire company-wide site-wide "
    "board production".split()
)

_PAYMENT = (
    r"(?:checkouts?|check-?outs?|payments?|card\s+payments?|transactions?|purchases?|orders?|billing\s+run|"
    r"pay(?:ing)?|card\s+processing|payment\s+processing|cart|payouts?)"
)
_PAYMENT_WORDS = frozenset(
    "checkout checkouts check payment payments transaction transactions purchase purchases order orders "
    "billing pay paying card cart payout payouts".split()
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
    r"|(?:site|app|application|service|platform|system|website|portal|api|server|servers|workspace|dashboard|login)\s+"
    r"(?:isn't|aren't|wasn't|is\s+not|are\s+not|was\s+not)\s+(?:loading|responding|reachable|available|opening|working)"
    r"|(?:can't|cannot|can\s+not|unable\s+to|couldn't|could\s+not)\s+(?:reach|access|load|open|log\s*in(?:to)?|"
    r"sign\s*in(?:to)?|connect\s+to|get\s+into)\s*(?:the\s+|your\s+|our\s+)?(?:app|application|site|website|platform|"
    r"service|system|dashboard|portal|workspace|api|server|product|tool)?"
    r"|(?:nobody|no\s+one|none\s+of\s+(?:us|our\s+\w+|the\s+\w+))(?:\s+[\w']+){0,4}?\s+(?:can|could|is\s+able\s+to)\s+(?:log\s*in|sign\s*in|"
    r"access|reach|load|open|connect|get\s+in)"
    r"|5\d\d\s+(?:internal\s+server\s+|server\s+)?errors?|internal\s+server\s+errors?|bad\s+gateway|"
    r"service\s+unavailable|gateway\s+time-?out|(?:http|error|status)\s+5\d\d|5\d\d\s+(?:bad|service|gateway)"
    r"|(?:returns?|returning|throws?|throwing|gives?|giving|getting|get|got)\s+(?:an?\s+|the\s+)?5\d\d"
    r"|server\s+errors?|(?:blank|white|empty)\s+(?:white\s+)?(?:page|screen)s?"
    r"|(?:app|application|site|website|platform|system|service|portal|dashboard|page)\s+(?:just\s+)?"
    r"(?:spins|keeps\s+spinning|"
    r"crash(?:es|ed)?\s+(?:on|at|right\s+at|during)\s+(?:startup|start-?up|launch|start|login|opening))"
    r"|(?:e-?mails?|notifications?|messages?|invoices?|sms)\s+(?:from\s+[\w\s]{1,30}?\s+)?(?:are|is|were|was)\s+(?:not|no\s+longer)\s+"
    r"(?:being\s+)?(?:delivered|sent|arriving|going\s+out)"
    r"|(?:none|not\s+one)\s+of\s+(?:the|our|my)\s+(?:e-?mails|notifications|messages|invoices)\s+(?:from\s+[\w\s]{1,30}?\s+)?"
    r"(?:are|were|is|was|have\s+been|has\s+been|got)\s+(?:being\s+)?(?:delivered|sent|arriving|going\s+out))(?![\w'])",
    re.IGNORECASE,
)
_OUTAGE_WORDS = frozenset(
    "outage down unavailable unreachable offline loading responding can't cannot unable couldn't could "
    "500 502 503 504 gateway internal timing crashing server blank white empty spins spinning load crashes "
    "crash crashed delivered sent arriving".split()
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
    # "the whole database of leads is empty": a store of data found empty (one empty page is not)
    rf"|(?:all|every|the\s+whole|the\s+entire|whole|entire)\s+(?:of\s+)?(?:our\s+|my\s+|the\s+)?{_DATA_NOUN}(?![\w'])"
    rf"[^.!?\n]{{0,40}}?(?:is|are|was|were|now)\s+(?:now\s+|completely\s+|just\s+)?(?:empty|blank)"
    rf")(?![\w'])",
    re.IGNORECASE,
)
_LOSS_WORDS = frozenset(
    "gone lost losing lose deleted wiped erased disappeared vanished overwritten purged corrupted missing loss empty "
    "blank".split()
)
_SELF_INFLICTED = re.compile(r"\b(?:i|we)\s+(?:accidentally|mistakenly|by\s+mistake|inadvertently)\b|\bby\s+mistake\b", re.I)

_OTHER_PARTY = re.compile(
    r"(?<![\w'])(?:(?:another|other|a\s+different|different|the\s+wrong|a\s+wrong|wrong|unknown|random|foreign)\s+"
    r"(?:(?:company|companies|customer|customers|client|clients|organi[sz]ations?|tenants?|accounts?|"
    r"business(?:es)?|firms?|shops?|stores?|practices?|schools?|merchants?|workspaces?)(?:'s|s'|')?"
    # a colleague is "another user": only another user's or other people's things are someone else's
    r"|(?:users?|people|person)(?:'s|s'|'))"
    r"|(?:someone|somebody|anyone|anybody)\s+else's|strangers?(?:'s|s'))(?![\w'])"
    # "a practice we have never heard of", "customers that aren't ours"
    r"|(?<![\w'])(?:company|companies|customers?|clients?|business(?:es)?|firms?|organi[sz]ations?|practices?|shops?|"
    r"stores?|people|persons?|users?|patients?)\s+(?:that\s+|who\s+|which\s+)?(?:we|i)\s+(?:have\s+|'ve\s+)?"
    r"(?:never\s+(?:heard\s+of|seen|met|worked\s+with|dealt\s+with)|(?:don't|do\s+not)\s+(?:know|recogni[sz]e))"
    r"|(?:company|customers?|clients?|people|users?|patients?|data|records?)(?:(?:\s+[\w']+){0,5}?\s+(?:that|who|which))?"
    r"\s+(?:aren't|are\s+not|"
    r"isn't|is\s+not)\s+(?:ours|mine|our\s+(?:own\s+)?(?:customers?|clients?|users?|patients?))(?![\w'])",
    re.IGNORECASE,
)
_OTHER_WORDS = frozenset(
    "another other different wrong else else's stranger strangers stranger's unknown random foreign never ours mine "
    "know recognize recognise".split()
)
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
    # an attempt that was stopped is not a takeover ("unauthorized access attempts were blocked")
    r"unauthori[sz]ed\s+(?:access|logins?|sign-?ins?|users?|changes|transfers?)(?!\s+attempts?)|"
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
    r"|no\s+longer\s+\w+|used\s+to\s+work|worked\s+(?:yesterday|before|until|last\s+week|this\s+morning)|"
    # "that worked perfectly, thanks" is a fix that worked, not a regression: the praise needs
    # a then-and-now ("worked fine until Monday", "worked great before, but now ...")
    r"worked\s+(?:fine|perfectly|great|well)(?:\s+[\w']+){0,3}?\s+(?:until|before|yesterday|last\s+week|this\s+morning|but|now)|"
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
    r"make\s+sure|prevent|avoid|risk|safeguard|protect\w*\s+(?:against|from)|guard\s+against)(?![\w'])"
    # Our own words read back ("your status page says 'major outage'") are not the customer's
    # report, up to a turn in the sentence ("... but we are down too").
    r"|(?<![\w'])(?:status\s+page|status\s+site|(?:your|the)\s+(?:announcement|notice|banner|newsletter|incident\s+report))"
    r"(?:(?!\b(?:but|however|yet|although|though|while|and\s+(?:we|i))\b)[^.!?\n])*$",
    re.IGNORECASE,
)


# A failure the customer says is over: "everything has been working fine since", "the 502s are gone
# now", "last week's outage". Read on the latest customer words only, and only when nothing is
# still failing (``_STILL_FAILING``): then the ticket asks a question about a past failure.
_RESOLVED = re.compile(
    r"(?<![\w'])(?:"
    r"(?:everything|all|it|things|the\s+\w+|service|site|app|platform)(?:'s\s+|\s+(?:is\s+|are\s+|has\s+been\s+|have\s+been\s+)?)"
    r"(?:working|works|running|loads|loading)\s+(?:fine|again|normally|well|perfectly|as\s+expected)"
    r"|(?:works|working|loads|loading|running)\s+again"
    r"|(?:is|are|'s|was|were)\s+back\s+(?:up|online|to\s+normal)|back\s+to\s+normal"
    r"|(?:all|everything)(?:'s\s+|\s+(?:is\s+|has\s+been\s+)?)(?:fine|good|ok|okay|stable)\s+(?:now|again|since)"
    r"|(?:is|are|was|were|has\s+been|have\s+been)\s+(?:now\s+)?(?:resolved|fixed|gone|restored|recovered)(?!\s*\?)"
    r"|no\s+longer\s+(?:an\s+issue|a\s+problem|happening|down|failing)"
    r"|(?:last\s+(?:week|night|month)'s|yesterday's|the\s+(?:previous|recent|past|earlier))\s+(?:outage|incident|downtime|disruption)"
    r"|(?:outage|incident|downtime|disruption)\s+(?:from|on|of)\s+(?:last|yesterday|the\s+\d|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday)"
    r")(?![\w'])",
    re.IGNORECASE,
)

# The words every _RESOLVED match holds as a whole word (in ASCII text): its prefilter.
_RESOLVED_WORDS = frozenset(
    "working works running loads loading back fine good ok okay stable resolved fixed gone restored recovered longer "
    "outage incident downtime disruption".split()
)

_STILL_FAILING = re.compile(
    r"(?<![\w'])(?:still\s+(?:[\w']+\s+){0,3}?(?:down|broken|fail\w*|not|get|getting|see|seeing|happen\w*|error\w*|crash\w*|"
    r"slow|unable|can't|cannot|no|missing)"
    r"|(?:down|failing|broken|crashing|erroring)\s+again|again\s+(?:down|failing|broken)|(?:went|goes|is|are)\s+down\s+again"
    r"|but\s+(?:now\s+)?(?:[\w']+\s+){0,4}?(?:fails|failing|is\s+down|are\s+down|broken|doesn't|does\s+not|won't|can't|cannot))",
    re.IGNORECASE,
)
