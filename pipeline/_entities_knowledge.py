"""Names and words that belong to one country, from general knowledge of the news.

Conflict and protest reports often name a party, an armed group, a security
force or a local institution and no place ("BNP-led blockade", "upazila
chairman", "a TTP commander"). These lists hold, per country, the bodies and
words a reader of the international news knows to be of that country: national
parties with their national wings, national union centres, armed groups,
security forces and missions that operate in one country, parliaments, and the
administrative and institutional words used in one country only. Peoples
that live in one country ("Sindhi", "Madhesi", "Kachin") are here too.

Left out on purpose: acronyms shared by bodies of several countries ("PDP",
"NCP", "ADF", "DA"), words used across a region ("hartal", "bandh", "crore",
"tehsil"), groups active in several countries ("Taliban", "Islamic State",
"JNIM") or based in one and fighting mostly in another (Lashkar-e-Taiba, the
PKK, the IRGC), and peoples split between countries ("Kashmiri", "Baloch",
"Kurdish", "Tamil", "Dalit").

Entries written in lower case match in any case ("Upazila"); the others match
exactly as written, as whole words.
"""

from __future__ import annotations

import re
from functools import cache

# fmt: off
_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "IN": (
        # parties and their national wings
        "BJP", "Bharatiya Janata Party", "BJYM", "RSS", "Rashtriya Swayamsevak Sangh",
        "Vishwa Hindu Parishad", "VHP", "Bajrang Dal", "ABVP", "Indian National Congress",
        "Youth Congress", "NSUI", "AAP", "Aam Aadmi Party", "Trinamool Congress", "TMC",
        "AITC", "Bahujan Samaj Party", "BSP", "Samajwadi Party", "CPI(M)", "CPI-M", "CPM",
        "CPI (M)", "CPI(Maoist)", "CPI-Maoist", "DMK", "AIADMK", "Dravida Munnetra Kazhagam",
        "Telugu Desam", "TDP", "TRS", "Telangana Rashtra Samithi", "YSRCP", "YSR Congress",
        "Janata Dal", "JD(U)", "JD(S)", "RJD", "Rashtriya Janata Dal", "Shiv Sena", "MNS",
        "Shiromani Akali Dal", "Akali Dal", "Biju Janata Dal", "BJD", "JMM", "AIMIM",
        "Asom Gana Parishad", "Lok Janshakti Party", "INLD", "AIUDF", "Hurriyat",
        "Hindu Mahasabha",
        # "the Congress" alone is also the US legislature: only with the
        # words of a party's rank and file is it India's Congress party.
        "Congress party", "Congress workers", "Congress worker", "Congress activists",
        "Congress leaders", "Congress leader", "Congress supporters", "Congress volunteers",
        "Congress cadres", "Congress MLA", "Congress MLAs", "Congress-led",
        # unions, farmers' and students' bodies of national reach
        "CITU", "AITUC", "INTUC", "Bharatiya Mazdoor Sangh", "AIKS",
        "Bharatiya Kisan Union", "BKU", "SFI", "DYFI", "AISF", "AISA",
        # armed groups, forces, institutions
        "Naxal", "Naxals", "Naxalite", "Naxalites", "Hizbul Mujahideen", "ULFA", "NSCN",
        "CRPF", "BSF", "CISF", "ITBP", "Assam Rifles", "Lok Sabha", "Rajya Sabha",
        "Vidhan Sabha", "Anganwadi", "anganwadi", "panchayat", "gram panchayat",
        "zilla parishad", "zila parishad", "taluk", "taluka", "lathicharge", "lathi-charge",
        "lathi charge", "lathicharged", "gherao", "gheraoed", "Bharatiya", "Rashtriya",
    ),
    "PK": (
        "PTI", "Pakistan Tehreek-e-Insaf", "PML-N", "PML(N)", "PML-Q", "PPP",
        "Pakistan Peoples Party", "MQM", "Muttahida Qaumi Movement", "ANP",
        "Awami National Party", "JUI-F", "JUI(F)", "Jamiat Ulema-e-Islam", "TLP",
        "Tehreek-e-Labbaik", "TTP", "Tehreek-e-Taliban", "Tehrik-i-Taliban",
        "Lashkar-e-Jhangvi", "LeJ", "ASWJ",
        "Ahle Sunnat Wal Jamaat", "Sipah-e-Sahaba", "BLA", "Balochistan Liberation Army",
        "BLF", "Frontier Corps", "FATA", "ISPR", "Sindhi", "Sindhis", "Mohajir", "Muhajir",
    ),
    "BD": (
        "Awami League", "BNP", "Bangladesh Nationalist Party", "Jatiya Party",
        "Chhatra League", "Chhatra Dal", "Jubo League", "Jubo Dal", "Swechchhasebak League",
        "Sramik League", "Chhatra Shibir", "Shibir", "Hefazat", "Hefazat-e-Islam", "RAB",
        "Rapid Action Battalion", "BGB", "Jatiya Sangsad", "upazila", "upazilla",
        "union parishad", "Union Parishad",
    ),
    "NP": (
        "Nepali Congress", "CPN-UML", "CPN (UML)", "CPN-Maoist", "CPN (Maoist)",
        "UCPN (Maoist)", "UCPN-Maoist", "Rastriya Prajatantra Party", "RPP", "Madhesi",
        "Madhesis", "Madhes", "VDC", "Village Development Committee", "Gaunpalika",
    ),
    "LK": (
        "SLFP", "UNP", "United National Party", "JVP", "Janatha Vimukthi Peramuna", "TNA",
        "Tamil National Alliance", "LTTE", "Tamil Tigers", "SLPP",
    ),
    "MM": (
        "Tatmadaw", "NLD", "National League for Democracy", "USDP", "Arakan Army",
        "Kachin Independence Army", "KIA", "KIO", "TNLA", "Ta'ang National Liberation Army",
        "MNDAA", "KNU", "KNLA", "Karen National Union", "DKBA", "RCSS", "SSA-S", "SSA-N",
        "UWSA", "United Wa State Army", "ARSA", "Kachin",
    ),
    "TH": (
        "Pheu Thai", "PDRC", "UDD", "Red Shirts", "BRN", "Barisan Revolusi Nasional",
        "PULO", "Future Forward", "amphoe", "tambon",
    ),
    "KH": ("Cambodian People's Party", "CNRP", "Cambodia National Rescue Party", "sangkat"),
    "PH": (
        "New People's Army", "NPA", "MILF", "MNLF", "Abu Sayyaf", "BIFF", "barangay",
        "Barangay",
    ),
    "AF": ("ANSF", "Afghan National Army", "NDS", "Hezb-e-Islami"),
    "IQ": ("Peshmerga", "Hashd al-Shaabi", "Popular Mobilization Forces", "PMF", "PUK"),
    "SY": (
        "SDF", "YPG", "Free Syrian Army", "FSA", "HTS", "Hayat Tahrir al-Sham",
        "Jabhat al-Nusra", "Nusra Front", "White Helmets",
    ),
    "YE": ("Houthi", "Houthis", "Ansar Allah", "Southern Transitional Council", "AQAP"),
    "LB": ("Hezbollah", "Amal Movement", "Free Patriotic Movement"),
    "IL": ("IDF", "Knesset", "Shin Bet"),
    "PS": ("Hamas", "Fatah"),
    "LY": ("LNA", "Libyan National Army", "GNA"),
    "SO": (
        "Al Shabaab", "al Shabaab", "Al-Shabaab", "al-Shabaab", "Al Shabab", "al-Shabab",
        "AMISOM", "ATMIS",
    ),
    "NG": (
        "Boko Haram", "ISWAP", "IPOB", "MEND", "Biafra", "Biafran", "EFCC",
        "All Progressives Congress",
    ),
    "CD": ("M23", "FARDC", "MONUSCO", "Mai-Mai", "Mai Mai", "CODECO", "FDLR"),
    "ML": ("MINUSMA", "FAMa", "MNLA"),
    "CF": ("MINUSCA", "anti-Balaka", "Seleka", "ex-Seleka"),
    "SS": ("SPLA", "SPLM", "SPLA-IO", "SPLM-IO", "UNMISS"),
    "SD": ("Rapid Support Forces", "Janjaweed", "UNAMID"),
    "ET": ("TPLF", "OLF", "ENDF", "kebele", "woreda"),
    "KE": ("KDF", "ODM"),
    "UG": ("UPDF",),
    "BI": ("Imbonerakure", "CNDD-FDD"),
    "CM": ("Ambazonia", "Ambazonian"),
    "MZ": ("Renamo", "RENAMO", "Frelimo", "FRELIMO"),
    "ZW": ("ZANU-PF", "Zanu-PF"),
    "ZA": ("ANC", "African National Congress", "COSATU", "Cosatu", "NUMSA"),
    "TR": ("AKP", "CHP", "HDP"),
    "UA": (
        "OSCE SMM", "Verkhovna Rada", "DPR", "LPR", "Donetsk People's Republic",
        "Luhansk People's Republic", "Lugansk People's Republic",
    ),
    "IR": ("Basij",),
    "CO": ("FARC", "ELN", "Clan del Golfo"),
    "MX": ("CJNG", "Jalisco New Generation Cartel", "Sinaloa Cartel", "Los Zetas"),
    "PE": ("Shining Path", "Sendero Luminoso"),
    "CL": ("Carabineros",),
    "BR": ("MST",),
}
# fmt: on


_WORD = re.compile(r"\w+")


@cache
def _phrases() -> dict[str, list[tuple[str, bool, str]]]:
    # First word -> (phrase, match in any case, country), longest phrase
    # first: "Chhatra League" is tried before "Chhatra".
    out: dict[str, list[tuple[str, bool, str]]] = {}
    for code, names in _BY_COUNTRY.items():
        for name in names:
            folded = name.islower()
            first = _WORD.match(name)
            assert first is not None, name
            out.setdefault(first.group().lower(), []).append((name, folded, code))
    for options in out.values():
        options.sort(key=lambda o: -len(o[0]))
    return out


def countries_named(text: str) -> list[str]:
    """The country of each national body or country-specific word in ``text``, in order.

    Example:
        >>> countries_named("A BNP-led blockade; an Upazila chairman was shot.")
        ['BD', 'BD']
    """
    phrases = _phrases()
    # One C-level pass finds the first words present; most texts have none.
    hits = phrases.keys() & set(_WORD.findall(text.lower()))
    found: list[tuple[int, int, str]] = []
    for first in hits:
        for match in re.finditer(rf"(?<!\w){re.escape(first)}", text, re.IGNORECASE):
            start = match.start()
            for name, folded, code in phrases[first]:
                stop = start + len(name)
                candidate = text[start:stop]
                if (candidate.lower() == name if folded else candidate == name) and not text[
                    stop : stop + 1
                ].isalnum():
                    found.append((start, stop, code))
                    break
    out: list[str] = []
    end = 0
    for start, stop, code in sorted(found):
        if start >= end:  # not inside a longer name found already
            out.append(code)
            end = stop
    return out


def country_of(name: str) -> str | None:
    """The country of one national body or country-specific word, or ``None``.

    Example:
        >>> country_of("Awami League")
        'BD'
    """
    for phrase, folded, code in _phrases().get(name.split()[0].lower() if name else "", []):
        if (name.lower() == phrase) if folded else (name == phrase):
            return code
    return None
