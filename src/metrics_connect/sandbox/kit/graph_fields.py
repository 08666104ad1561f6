"""The Graph `fields` syntax: `id,caption,children{media_url},insights.metric(reach,likes)`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)  # e.g. limit -> "10"
    subfields: tuple[FieldSpec, ...] | None = None


class FieldSyntaxError(ValueError):
    pass


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside braces or parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
            if depth < 0:
                raise FieldSyntaxError(text)
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise FieldSyntaxError(text)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _parse_one(text: str) -> FieldSpec:
    subfields: tuple[FieldSpec, ...] | None = None
    head = text
    if text.endswith("}"):
        brace = text.index("{")
        subfields = tuple(parse_fields(text[brace + 1 : -1]))
        head = text[:brace]
    # head: name(.modifier(args))*
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in head:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "." and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    name, modifiers = pieces[0].strip(), {}
    for piece in pieces[1:]:
        if not piece.endswith(")") or "(" not in piece:
            raise FieldSyntaxError(text)
        key, _, args = piece[:-1].partition("(")
        modifiers[key.strip()] = args.strip()
    if not name:
        raise FieldSyntaxError(text)
    return FieldSpec(name, modifiers, subfields)


def parse_fields(text: str | None) -> list[FieldSpec]:
    if not text:
        return []
    return [_parse_one(part) for part in _split_top(text)]


def unparse_fields(specs: tuple[FieldSpec, ...]) -> str:
    """The `fields` text of parsed specs (for a nested edge's own paging URLs)."""
    parts = []
    for spec in specs:
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.subfields:
            text += "{" + unparse_fields(spec.subfields) + "}"
        parts.append(text)
    return ",".join(parts)
