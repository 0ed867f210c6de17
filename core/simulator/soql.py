"""A small SOQL evaluator for the Salesforce simulator: fields, relationship fields, child
sub-queries, WHERE with AND/OR, ORDER BY, LIMIT."""

from __future__ import annotations

import re
from typing import Any, Callable

from deskwatch.core.model.timeutil import parse_time

_FROM = re.compile(r"\sFROM\s+(\w+)", re.I)
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|<>|=|<|>|\(|\)|,)|(?P<word>[\w.:+\-]+))""")


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


class SoqlError(ValueError):
    pass


def parse_soql(q: str) -> dict[str, Any]:
    q = q.strip()
    if not q[:7].upper().startswith("SELECT "):
        raise SoqlError("unexpected token: expected SELECT ... FROM ...")
    # The object's FROM is the first one outside the child sub-queries' parentheses.
    depth, m = 0, None
    for i, ch in enumerate(q):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch.isspace():
            m = _FROM.match(q, i)
            if m:
                break
    if m is None:
        raise SoqlError("unexpected token: expected SELECT ... FROM ...")
    fields, sub = [], []
    for f in split_top(q[7:m.start()]):
        if f.startswith("("):
            sub.append(parse_soql(f.strip("() ")))
        else:
            fields.append(f)
    rest = q[m.end():]
    limit = re.search(r"\bLIMIT\s+(\d+)\s*$", rest, re.I)
    if limit:
        rest = rest[: limit.start()]
    order = re.search(r"\bORDER\s+BY\s+(.+)$", rest, re.I | re.S)
    order_by = []
    if order:
        for part in split_top(order.group(1)):
            bits = part.split()
            order_by.append((bits[0], len(bits) > 1 and bits[1].upper() == "DESC"))
        rest = rest[: order.start()]
    where = re.search(r"\bWHERE\s+(.+)$", rest, re.I | re.S)
    return {"fields": fields, "object": m.group(1), "sub": sub, "where": tokenize(where.group(1)) if where else [],
            "order": order_by, "limit": int(limit.group(1)) if limit else None}


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise SoqlError(f"unexpected token near {text[pos:pos + 20]!r}")
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _literal(tok: tuple[str, str]) -> Any:
    kind, v = tok
    if kind == "str":
        return v[1:-1].replace("\\'", "'")
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}T", v):
        return parse_time(v)
    try:
        return float(v)
    except ValueError:
        raise SoqlError(f"unexpected literal {v!r}") from None


def evaluate_where(tokens: list[tuple[str, str]], get: Callable[[str], Any]) -> bool:
    """Evaluate a WHERE token list over a record (``get(field)``): AND/OR, NOT, parentheses,
    comparisons, IN / NOT IN, LIKE."""
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise SoqlError("unexpected end of WHERE clause")
        pos += 1
        return tokens[pos - 1]

    def expr() -> bool:
        left = term()
        while peek() and peek()[1].upper() == "OR":
            take()
            right = term()
            left = left or right
        return left

    def term() -> bool:
        left = factor()
        while peek() and peek()[1].upper() == "AND":
            take()
            right = factor()
            left = left and right
        return left

    def factor() -> bool:
        tok = take()
        if tok[1].upper() == "NOT":
            return not factor()
        if tok[1] == "(":
            v = expr()
            take()
            return v
        field = tok[1]
        op = take()[1].upper()
        if op == "NOT":
            take()  # IN
            return get(field) not in values()
        if op == "IN":
            return get(field) in values()
        value = _literal(take())
        actual = get(field)
        if op == "LIKE":
            pattern = "^" + re.escape(str(value)).replace("%", ".*").replace("_", ".") + "$"
            return actual is not None and re.match(pattern, str(actual), re.I) is not None
        if op in ("=",):
            return actual == value
        if op in ("!=", "<>"):
            return actual != value
        if actual is None or value is None:
            return False
        return {">": actual > value, ">=": actual >= value, "<": actual < value, "<=": actual <= value}[op]

    def values() -> list[Any]:
        take()  # (
        out = []
        while True:
            tok = take()
            if tok[1] == ")":
                return out
            if tok[1] != ",":
                out.append(_literal(tok))

    return expr() if tokens else True


def row_getter(row: dict[str, Any]) -> Callable[[str], Any]:
    """Field access for WHERE and ORDER BY: dotted paths, ISO times read as datetimes."""

    def get(path: str) -> Any:
        cur: Any = row
        for part in path.split("."):
            if not isinstance(cur, dict):
                return None
            if part not in cur:
                raise KeyError(path)
            cur = cur[part]
        if isinstance(cur, str) and len(cur) >= 19 and cur[4] == "-" and cur[10] == "T":
            return parse_time(cur)
        return cur

    return get
