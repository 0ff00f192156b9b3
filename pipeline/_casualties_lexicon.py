"""Word lists and compiled patterns of the casualty stage (all lower-case).

Kept apart from :mod:`pipeline.casualties` so the rules read top to bottom
there and the vocabulary can grow here without touching them.
"""

from __future__ import annotations

import re

from pipeline._numbers import NUMBER

# Trigger kinds: "verb" takes an object count when active ("killed 5
# people") and a subject count when passive ("5 people were killed"); "intr"
# takes only a subject count ("5 people died", "3 dead"); "noun" follows its
# count ("5 deaths") or takes "of N" ("the deaths of 5 people"); "toll" takes
# the count after it ("the death toll rose to 12"); "single" and "suffer" take
# a subject count or else mean one ("shot himself", "suffered injuries");
# "people" takes only a count of people ("affected"); "skip" swallows its
# count and gives nothing ("killed or wounded"). Earlier entries win a tie.
_TRIGGERS: tuple[tuple[str, str, str], ...] = (
    (
        r"death toll|toll of dead|number of (?:dead|deaths|people killed)|fatalities coded as",
        "killed",
        "toll",
    ),
    (
        r"(?:shot|beat|beaten|stabbed|hacked|clobbered|lynched|bludgeoned|stoned|strangled"
        r"|hanged)\s+(?:him|her)"
        r"\s+(?:dead|to death)|(?:succumbed|died)\s+(?:to|of|from)\s+(?:his|her)\s+(?:injuries"
        r"|wounds)|(?:has|had)\s+(?:since\s+|later\s+|subsequently\s+)?died"
        r"|lost (?:his|her) life|(?:killed|killing) (?:himself|herself)"
        r"|(?:took|taking|take) (?:his|her) own life"
        r"|fatal (?:shooting|stabbing) of|murder-suicide",
        "killed",
        "single",
    ),
    (
        r"shot and killed|shot (?:dead|to death)|(?:stabbed|beaten|beat|hacked|burned|burnt"
        r"|clobbered|stoned"
        r"|tortured|bludgeoned|lynched|strangled|crushed|drowned|hanged|bled|shot) to death"
        r"|gunned down"
        r"|fatally (?:shot|wounded|injured|stabbed|struck|assaulted|attacked|hit)",
        "killed",
        "verb",
    ),
    (
        r"(?:killed|dead) or (?:wounded|injured|hurt)|(?:wounded|injured) or (?:killed|dead)",
        "killed",
        "skip",
    ),
    # "a double murder", "a triple homicide": the count is in the adjective.
    (
        (
            r"(?:double|triple|quadruple|quintuple)[\s-]+(?:murders?|homicides?|slayings?"
            r"|killings?|fatal\s+shootings?)(?!-)"
        ),
        "killed",
        "multiple",
    ),
    (r"(?:double|triple|quadruple|quintuple)[\s-]+shootings?", "injured", "multiple"),
    (r"assassination|murder|slaying|massacre|killing(?=\s+of\b)", "killed", "noun"),
    (
        r"killed|killing|kills|kill|murdered|murdering|slain|slew|assassinated|executed"
        r"|executing|massacred"
        r"|massacring|slaughtered|beheaded|lynched",
        "killed",
        "verb",
    ),
    (r"fatally(?=\s*[.,;])", "killed", "intr"),
    (
        (
            r"dead|died|die|dies|deceased|perished|succumbed|passed away|lost their lives"
            r"|were victims of"
        ),
        "killed",
        "intr",
    ),
    (r"deaths|death|fatalities|fatality|bodies|corpses|lives", "killed", "noun"),
    (
        r"shot and (?:wounded|injured)|wounded|wounding|injured|injuring|maimed|wound|injure",
        "injured",
        "verb",
    ),
    (r"hurt", "injured", "intr"),
    # "four people were taken to hospital": an explicit count only (the dead go there too).
    (
        (
            r"(?:taken|transported|rushed|sent|brought|airlifted|flown)\s+to\s+(?:the\s+|a\s+"
            r"|an\s+|area\s+|local\s+|nearby\s+|different\s+|several\s+|two\s+|three\s+)?"
            r"hospitals?|hospitali[sz]ed"
        ),
        "injured",
        "counted",
    ),
    # "five people were struck by gunfire", "opened fire, striking six": people shot.
    (
        r"(?:struck|hit)\s+by\s+(?:gunfire|bullets|a\s+bullet|(?:a\s+)?stray\s+bullets?)",
        "injured",
        "intr",
    ),
    (
        (
            r"(?:striking|hitting)(?=\s+(?:at\s+least\s+|all\s+)?(?:\d+|two|three|four|five|six"
            r"|seven|eight|nine|ten|eleven|twelve)\b)"
        ),
        "injured",
        "verb",
    ),
    (r"(?:shot|shoots|shooting)\s+(?:himself|herself|self)", "injured", "single"),
    (
        r"(?:suffered|sustained|suffering|treated for"
        r"|with)\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}?(?:gunshot wounds?"
        r"|injuries|wounds?|gunshot)",
        "injured",
        "suffer",
    ),
    (
        r"(?:is|was|are|were|remains|remained|listed|left)\s+in\s+(?:critical|serious|stable|grave|fair)"
        r"(?:\s+but\s+stable)?\s+condition",
        "injured",
        "suffer",
    ),
    # "shot at police" is firing at someone; "shot at a party" is where people were shot.
    (
        (
            r"(?:shot|shooting|shoot|shoots|firing|fired)\s+at(?=\s+(?:him|her|them|us|me|it"
            r"|police|officers?|deputies|troopers|agents|soldiers|troops|cars?|vehicles?|houses?"
            r"|homes?|(?:a|an|the|his|her|their)\s+(?:[\w'-]+\s+)?(?:car|vehicle|truck|suv|van"
            r"|house|home|residence|apartment|officers?|police|deputy|trooper|suspects?|victims?"
            r"|group|crowd|man|woman|men|people|driver)s?)\b)"
        ),
        "injured",
        "skip",
    ),
    (r"shooting(?=\s+of\b)", "injured", "noun"),
    (r"shot|shoots|grazed|shooting(?=\s+(?:his|her|their|a|an|the|\d))", "injured", "verb"),
    (r"injuries|wounds", "injured", "noun"),
    (r"casualties", "casualties", "noun"),
    (r"missing|unaccounted for", "missing", "intr"),
    (r"kidnapped|kidnapping|abducted|abducting|taken hostage|held hostage", "kidnapped", "verb"),
    (r"hostages|captives", "kidnapped", "noun"),
    (r"hostage", "kidnapped", "intr"),
    (
        r"arrested|arresting|detained|detaining|apprehended|taken into custody|rounded up",
        "arrested",
        "verb",
    ),
    (r"arrests|detentions|detainees", "arrested", "noun"),
    (
        r"displaced|displacing|forced from their homes|left homeless|made homeless"
        r"|fled their homes",
        "displaced",
        "verb",
    ),
    (r"refugees|evacuees", "displaced", "noun"),
    (r"affected", "affected", "people"),
)
TRIGGER_KINDS: dict[str, tuple[str, str]] = {
    f"t{i}": (category, kind) for i, (_, category, kind) in enumerate(_TRIGGERS)
}
TRIGGER = re.compile(
    "|".join(rf"\b(?P<t{i}>{pattern})\b" for i, (pattern, _, _) in enumerate(_TRIGGERS))
)

#: A cheap test that a text may hold a trigger: every trigger contains one of
#: these stems (the full alternation above is about 20 times slower).
MAY_HOLD_TRIGGER = re.compile(
    r"\b(?:kill|murder|slain|slew|assassinat|execut|massacr|slaughter|behead|lynch|death|dead|die"
    r"|deceas|perish|succumb|lives|life|victim|fatal|bodies|corpses|slaying|toll|coded|gunned|wound"
    r"|injur|maim|hurt|shot|shoot|gunshot|casualt|missing|unaccounted|kidnap|abduct|hostage|captive"
    r"|arrest|detain|detention|apprehend|custody|rounded|displac|homes|homeless|refugee|evacuee"
    r"|affected|himself|herself|murder|stabbed|beat|hacked|burn|tortur|bludgeon|strangl|crush"
    r"|drown|hang|bled|clobber|ston|condition|struck|hit|strik|graze|hospital|double|triple"
    r"|quadruple|quintuple|passed)"
)

#: A count phrase at a word boundary.
NUMBER_RE = re.compile(rf"(?<![\w$£€#.,/:-]){NUMBER}(?![\w%/-]|,\d|\.\d)")

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
#: What follows a number that is not a count of people ("25-year-old", "5 miles").
NOT_A_COUNT_AFTER = re.compile(
    # a number right before another is a caption or a list ("Image 2 of 9 7-year-old girl")
    rf"^(?:\s+\d|(?:-|\s)?(?:years?|yr|months?|weeks?|days?|hours?|minutes?|seconds?|year-old"
    rf"|-year-old"
    rf"|miles?|km|kilometers?|kilometres?|meters?|metres?|feet|foot|ft|yards?|inches|acres?"
    rf"|percent|per cent|%|times|rounds?|shots|bullets?|shell casings?|cars?|vehicles?|houses?"
    rf"|homes?|buildings?|dollars?|rupees?|a\.?m\b|p\.?m\b|am\b|pm\b|o'clock|caliber|calibre|mm\b"
    rf"|tons?|tonnes?|pounds?|lbs?|kg|points?|votes?|degrees?|cases?|counts?|charges?|:\d|th\b|st\b"
    rf"|nd\b|rd\b|s\b|'s\b|block|(?:{_MONTHS})\b|mph|villages?|districts?|provinces?|states?"
    rf"|countries|cities|towns|guns?|rifles?|weapons?|grenades?|bombs?|mortars?|rockets?|missiles?"
    rf"|airstrikes?|air strikes?|attacks?|incidents?|shootings?|raids?)(?![a-z]))"
)
NOT_A_COUNT_BEFORE = re.compile(
    rf"(?:\$|£|€|#|\b(?:no\.|number|route|highway|interstate|hwy|block|aged?"
    rf"|ages(?:\s+of)?(?:\s+\d+\s*(?:through|to|and|-|–))?|at|since|from"
    rf"|until|till|(?:{_MONTHS})|page|article|chapter|section|unit|room|flight|channel|top"
    rf"|precinct|ward|district|zone|sector|battalion|brigade|platoon|squad|floor|grade|suite|apt"
    rf"|apartment|turned|turns|turning|younger than|older than"
    rf"|(?:father|mother|parent|dad|mom|grandfather|grandmother)\s+of"
    rf"|(?:one|each|some|all|none|most|many|several|both|either|neither|any)\s+of"
    rf"(?:\s+(?:the|those|these))?))\s*$"
)

QUALIFIERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\s+$"), qualifier)
    for words, qualifier in (
        (
            r"at least|at the very least|no fewer than|no less than|not less than|a minimum of",
            "at_least",
        ),
        (r"more than|over|in excess of|upwards of|above|beyond", "more_than"),
        (r"up to|as many as|as much as|a maximum of", "up_to"),
        (r"fewer than|less than|under|below", "fewer_than"),
        (
            r"about|around|approximately|nearly|almost|roughly|some|an estimated|estimated|close to"
            r"|an approximate|approx\.?|circa|more or less|perhaps|possibly",
            "about",
        ),
    )
)
#: Words allowed between a transitive trigger and its object count.
OBJECT_GAP = re.compile(
    r"^\s+(?:(?:at least|more than|over|about|around|nearly|almost|some|up to|as many as"
    r"|an estimated"
    r"|approximately|roughly|a total of|another|other|his|her|their|its|the|all|at the very least"
    r"|no fewer than|no less than|fewer than|less than|close to|in excess of|upwards of"
    r"|estimated)\s+)*$"
)
#: A singular object after an active verb: "killed a policeman", "shot his wife".
SINGULAR_OBJECT = re.compile(
    r"^\s+(?:a|an|one|his|her|the|their|its)\s+(?:[\w'-]+\s+){0,3}?([\w'-]+)"
)
PLURAL_NOUNS = frozenset(
    "people persons men women children police personnel staff troops civilians family"
    " others".split()
)
AUXILIARY_BEFORE = re.compile(
    r"\b(?P<aux>was|were|is|are|be|been|being|got|get|gets)\s+(?:(?:reportedly|allegedly|also"
    r"|later|then"
    r"|all|both|critically|seriously|severely|badly|gravely|slightly|lightly|fatally|reported"
    r"|confirmed"
    r"|believed|feared|found|left|said|known|thought|presumed|pronounced|declared|not|never"
    r"|accidentally|apparently|mistakenly|possibly|accidently|also|just|reportedly|subsequently"
    r"|shot and|shot"
    r"|to have been|to be|and)\s+)*$"
)
SINGULAR_SUBJECT_BEFORE = re.compile(
    r"\b(?:he|she|man|woman|boy|girl|victim|child|teen|teenager|person|officer|soldier|policeman"
    r"|baby|infant|toddler|driver|resident|student|worker|guard|father|mother|son|daughter|wife"
    r"|husband|brother|sister|suspect|gunman|journalist|leader|member|farmer|official|civilian"
    r"|passenger|pedestrian|one)\s+(?:(?:later|also|subsequently|reportedly|allegedly|was|is"
    r"|has|had|been)\s+)*$"
)
NEGATED_SUBJECT = re.compile(
    r"\b(?:no one|no-one|nobody|none|no(?:\s+[\w-]+){0,2}?|not a single(?:\s+[\w-]+)?|neither)"
    r"\s+(?:(?:was|were|has|have|had|been|is|are|reportedly|immediately|else)\s+)*$"
)
NEGATED_NOUN_BEFORE = re.compile(
    r"\b(?:no|without|zero|free of)\s+(?:(?:immediate|reported|known|human|serious|major|other"
    r"|further)\s+)*$"
)
OF_NUMBER_AFTER = re.compile(
    r"^\s+of\s+(?:(?:at least|more than|about|some|nearly|around|up to|over|the|all)\s+)*"
)
#: Words that end a subject before a count's trigger ("5 people who ..." is fine).
SUBJECT_BREAK = re.compile(
    r"[;:!?]|\.\s|\b(?:said|says|after|when|while|because|but|although|than|who|which|whom|whose)\b"
)
#: Nouns that make a count one of people, for the "people" trigger kind ("affected").
PEOPLE = re.compile(
    r"\b(?:people|persons|residents|families|households|villagers|civilians|children|inhabitants)\b"
)

TIME_FRAME = re.compile(
    rf"\b(?:since\s+(?:early\s+|late\s+|mid-?)?(?:the\s+(?:start|beginning|outbreak|end)\s+of\s+(?:the\s+)?[\w-]+"
    rf"(?:\s+[\w-]+)?|last\s+\w+|(?:{_MONTHS})(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{4}}|then|[a-z]+day)"
    rf"|(?:in|over|during|within|for)\s+the\s+(?:past|last|previous)\s+(?:[\w-]+\s+)?"
    rf"(?:hours?|days?|weeks?|months?|years?|decades?)"
    rf"|so\s+far(?:\s+this\s+(?:year|month|week))?|to\s+date|this\s+(?:year|month|week)"
    rf"|(?:in|during)\s+(?:19|20)\d\d(?!\d))"
)
_SAY = (
    r"says|said|say|reported|reports|report|confirmed|confirms|announced|told|stated|estimated"
    r"|estimates"
)
ATTRIBUTION_AFTER = re.compile(r"\baccording\s+to\s+([^,.;:()\"“”]{2,80})")
SAY_VERB = re.compile(rf"\b(?:{_SAY})\b")
NOT_SPEAKER_BEFORE = re.compile(
    r"\b(?:was|were|is|are|be|been|being|has|have|had|not|it|also|an)\s+$"
)
SPEAKER_STOP = re.compile(
    r"^(?:.*(?:[,;:\"“”(]|\b(?:which|that|who|whom|whose|and|but|however|while|as|when|where"
    r"|meanwhile"
    r"|although|because|since|if|after|before|what|how|to)\b))\s*"
)
PRONOUNS = frozenset("he she they it we i you this there".split())
SAID_AFTER = re.compile(
    r"\b(?:said|says|according to)\s+([^,.;:()\"“”]{2,80}?)\s*[.,]?\s*[\"”’]?\s*$"
)

VICTIM_GROUPS: dict[str, str] = {
    **dict.fromkeys("civilian civilians residents villagers".split(), "civilians"),
    **dict.fromkeys(
        "soldier soldiers troops troopers servicemen army military personnel".split(), "soldiers"
    ),
    **dict.fromkeys(
        "police policeman policemen officers officer constables gendarmes gendarme cops".split(),
        "police",
    ),
    **dict.fromkeys(
        "child children kids boys girls boy girl babies infants minors students pupils".split(),
        "children",
    ),
    **dict.fromkeys("women woman".split(), "women"),
    **dict.fromkeys(
        "militants militant insurgents insurgent rebels rebel terrorists terrorist fighters"
        " fighter guerrillas"
        " guerrilla subversives subversive extremists extremist jihadists gunmen gunman"
        " attackers assailants".split(),
        "militants",
    ),
    **dict.fromkeys(
        "protesters protestors demonstrators protester demonstrator".split(), "protesters"
    ),
    **dict.fromkeys("journalists journalist reporters reporter".split(), "journalists"),
    **dict.fromkeys("workers worker employees miners".split(), "workers"),
    **dict.fromkeys("migrants refugees".split(), "migrants"),
}
GROUP_WORD = re.compile(r"[a-z]+")
ADDITIVE = re.compile(r"\b(?:also|another|more|additional|further)\b")
