"""Within-article normalisation: short forms and variants -> the longest full form.

"Lavrov" -> "Sergei Lavrov", "Assad"/"al-Assad" -> "Bashar al-Assad" (surname
and particle forms of a person), "Security Council" -> "UN Security Council"
(a tail of an organisation's name) and "UN" -> "United Nations" (acronyms).
Places only merge when their spelling is the same, since "Sudan" is not
"South Sudan".
"""

from __future__ import annotations

import re

_PARTICLE = re.compile(r"^(al|el|ad|as|ash|an|ar|at|az|ad-|bin|ibn|abu)[-\u2010]", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(['\u2019]s|['\u2019])$")
_SMALL_WORDS = {"of", "the", "and", "for", "de", "du", "la", "le", "des", "&"}
# Acronyms so common on the wire that they resolve without their long form.
_KNOWN_ACRONYMS = {
    "UN": "United Nations",
    "U.N.": "United Nations",
    "EU": "European Union",
    "E.U.": "European Union",
    "NATO": "NATO",
}


def clean_surface(text: str) -> str:
    """Strip a possessive and surrounding punctuation ("Assad's" -> "Assad")."""
    return _POSSESSIVE.sub("", text.strip(" \t\n\"'\u201c\u201d(),.;:")) or text.strip()


def _tokens(name: str) -> list[str]:
    return [_PARTICLE.sub("", t).lower() for t in name.replace("\u2019", "'").split()]


def _acronym(name: str) -> str:
    words = [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in _SMALL_WORDS]
    return "".join(w[0] for w in words if w[0].isalpha()).upper()


def _is_acronym(name: str) -> bool:
    bare = name.replace(".", "")
    return 2 <= len(bare) <= 6 and bare.isupper() and bare.isalpha()


def _contained(short: list[str], long: list[str], label: str) -> bool:
    if len(short) >= len(long) or not short:
        return False
    if label == "PER":
        return all(t in long for t in short)
    if label == "ORG":
        # A tail of the name, ending at its head word ("Security Council").
        return long[-len(short) :] == short
    return False


def _display(forms: list[str]) -> str:
    # Prefer a mixed-case spelling to an ALL-CAPS headline one.
    return max(forms, key=lambda f: (len(_tokens(f)), not f.isupper(), len(f)))


def canonical_names(mentions: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Map each (surface, label) of one article to its canonical name.

    Example:
        >>> canonical_names([("Sergei Lavrov", "PER"), ("Lavrov", "PER")])[("Lavrov", "PER")]
        'Sergei Lavrov'
    """
    by_key: dict[tuple[str, str], list[str]] = {}
    for surface, label in mentions:
        by_key.setdefault((" ".join(_tokens(surface)), label), []).append(surface)
    full = {key: _display(forms) for key, forms in by_key.items()}
    longest_first = sorted(full, key=lambda k: -len(k[0].split()))
    out: dict[tuple[str, str], str] = {}
    for (key, label), forms in by_key.items():
        target = full[(key, label)]
        short = key.split()
        for other_key, other_label in longest_first:
            if other_label == label and _contained(short, other_key.split(), label):
                target = full[(other_key, other_label)]
                break
        else:
            if _is_acronym(target):
                target = _expand(target, full, label)
        for form in forms:
            out[(form, label)] = target
    return out


def _expand(acronym: str, full: dict[tuple[str, str], str], label: str) -> str:
    bare = acronym.replace(".", "").upper()
    for (_key, other_label), name in full.items():
        if other_label in (label, "ORG") and not _is_acronym(name) and _acronym(name) == bare:
            return name
    return _KNOWN_ACRONYMS.get(acronym.upper(), acronym)
