"""The rule texts the guards share: `check`, the git hook (`guard commit`) and the agent hook (`guard agent`)
explain a refusal with the same words, so they come from here."""

from __future__ import annotations

WHERE = "program.md, 'Which files you may touch'"
ASK_HUMAN = "only the researcher may allow it, by writing META_MODE=1 in a new human_journal.md entry"


def frozen_problem(rel: str, fix: str) -> str:
    return f"{rel} is FROZEN ({WHERE}) and META_MODE is off: {fix}; {ASK_HUMAN}"


def global_problem(rel: str, where: str, fix: str) -> str:
    return (
        f"{rel} is GLOBAL ({WHERE}): it is committed only from the main checkout, not {where}; {fix}. "
        "Rows and journal entries go to the root copy by themselves (`just eval`, `just journal`)"
    )
