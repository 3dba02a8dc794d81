"""Severity grading of one keyword hit, and the plain words that explain it to a DSL.

Inputs: the phrase's own severity, the risk model's P(concerning sense) and expected severity, whether
the search asks for help, whether it came from a search or a page address. The model can move a grade by
one either way and suppresses benign senses; licensed-list hits are never suppressed; help-seeking is
never suppressed but is graded as a pupil reaching out (3 with a crisis phrase, otherwise 1); a
schoolwork/awareness context word caps a non-crisis phrase (graded 4 or less) at 2; a humour/game/media word caps
a hit at 2 (3 for a crisis phrase), except in extremism, discrimination, sexual exploitation and bullying.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_LABELS = {
    "suicide_self_harm": "Suicide / self-harm",
    "extremism": "Extremism / radicalisation",
    "sexual_exploitation": "Sexual exploitation / grooming",
    "abuse": "Abuse",
    "bullying": "Bullying",
    "discrimination": "Discrimination / hate",
    "drugs": "Drugs",
    "weapons_violence": "Weapons / violence",
    "eating_disorders": "Eating disorders",
    "pornography": "Pornography",
    "gambling": "Gambling",
    "illegal_content": "Illegal content",
    "circumvention": "Filter circumvention",
}

# Memes and "jokes" are how these harms travel (hate memes, "kys" jokes): no playful cap for them.
PLAYFUL_EXEMPT = frozenset({"extremism", "discrimination", "sexual_exploitation", "bullying"})
SUPPRESS_BELOW = 0.5  # P(concerning sense) under this: a benign sense (homework, a film, a process)
UNSURE_BELOW = 0.75  # between the two: keep it visible but lower (see `grade`)


@dataclass(frozen=True)
class Grade:
    """A graded hit: severity (None = suppressed as a benign sense) and the reasons, in words."""

    severity: int | None
    reasons: tuple[str, ...]


def grade(
    rule_severity: int,
    *,
    always: bool,
    p_concern: float,
    model_severity: float,
    help_seeking: bool,
    from_url: bool,
    curriculum: str | None = None,
    playful: str | None = None,
    category: str = "",
) -> Grade:
    """Combine rule, model and context into a 1-5 grade (see module docstring)."""
    if always:
        return Grade(rule_severity, ("on a licensed keyword list, so it is always reported",))
    if help_seeking:
        if rule_severity >= 4:
            return Grade(
                3, ("the search also looks for help (a helpline or support service): the pupil may be reaching out",)
            )
        return Grade(1, ("the search is about getting help or support, not a risk in itself",))
    if p_concern < SUPPRESS_BELOW:
        return Grade(None, (f"the wording reads as an everyday or curriculum sense (model {p_concern:.2f})",))
    sev = max(rule_severity - 1, min(rule_severity + 1, round(model_severity)))
    sev = max(1, min(5, sev))
    reasons = []
    if sev > rule_severity:
        reasons.append("the wording adds intent (how-to, first person, method or timing)")
    elif sev < rule_severity:
        reasons.append("the wording softens it (general or informational)")
    if p_concern < UNSURE_BELOW:
        # Unsure of the sense: a general phrase drops to low; a specific crisis phrase only loses one.
        sev = min(sev, 2) if rule_severity <= 3 else sev - 1
        reasons.append(f"the sense is uncertain (model {p_concern:.2f}), so it is graded lower")
    else:
        reasons.append(f"the wording reads as the concerning sense (model {p_concern:.2f})")
    if curriculum and rule_severity <= 4 and sev > 2:
        sev = 2
        reasons.append(f"it reads like schoolwork or awareness material (mentions “{curriculum}”), so it is kept low")
    if playful and category not in PLAYFUL_EXEMPT:
        cap = 3 if rule_severity >= 5 else 2
        if sev > cap:
            sev = cap
            reasons.append(
                f"it may be said in jest or about a game or film (mentions “{playful}”), so it is capped at {cap}"
            )
    if from_url:
        # A page address carries no search wording to add intent: the model may lower it, never raise it.
        sev = min(sev, rule_severity)
        reasons.append("seen in a page address rather than a search")
    return Grade(sev, tuple(reasons))
