"""What the Claude Code session hooks run: the context an agent starts (or resumes) with, and whether it may stop.

SessionStart (on start, resume, /clear and after a compaction): puts the project's .venv on PATH for
every later Bash call (through CLAUDE_ENV_FILE) and prints where things stand and the next step, so an
agent that lost its context picks the loop up where it was. Stop: with `[tool.autoresearch] run_until
= "07:00"`, sends the agent back to work until that time (the first 07:00 after the session was first
seen stopping), unless the last `stop_after_crashes` runs all crashed (then something needs a human).
Both read Claude Code's hook JSON on stdin and never fail the session. Usage (.claude/settings.json):

    autoresearch hooks session-start      # prints context; exit 0
    autoresearch hooks stop               # prints {"decision": "block", "reason": ...} to keep going
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoresearch.config import Config
    from autoresearch.paths import Project


def _input(stdin: str) -> dict[str, Any]:
    try:
        data = json.loads(stdin) if stdin.strip() else {}
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def session_start(project: Project, config: Config, stdin: str, env_file: str | None) -> str:
    """The context for the agent (stdout), after putting the project's venv on PATH."""
    from autoresearch import status

    venv = Path(sys.executable).parent  # the project's .venv/bin: the hook runs its autoresearch
    if env_file:
        with open(env_file, "a") as f:
            f.write(f'export PATH="{venv}:$PATH"\n')
    source = _input(stdin).get("source", "startup")
    lines = [
        f"This is an autoresearch project ({source}): program.md is your manual; `just status` shows the dashboard."
    ]
    lines.append(status.brief(status.gather(project, config)))
    return "\n".join(lines)


def stop_decision(project: Project, config: Config, stdin: str, now: datetime | None = None) -> dict[str, str] | None:
    """{"decision": "block", "reason": ...} to send the agent back to work, or None to let it stop."""
    from autoresearch import results, status

    if not config.run_until:
        return None
    now = now or datetime.now()
    deadline = _deadline(project, config.run_until, _input(stdin).get("session_id", "session"), now)
    if now >= deadline:
        return None
    record = results.load(project, config)
    last = record.df.tail(config.stop_after_crashes)["status"].to_list()
    if len(last) == config.stop_after_crashes and all(s == "crash" for s in last):
        return None  # the last runs all crashed: stop, and let the researcher see why
    step = status.next_step(status.gather(project, config))
    return {
        "decision": "block",
        "reason": f"It is {now:%H:%M} and [tool.autoresearch] run_until is {config.run_until} ({deadline:%a %H:%M}): keep going. Next: {step}",
    }


def _deadline(project: Project, run_until: str, session: str, now: datetime) -> datetime:
    """The first `run_until` after the moment this session was first seen stopping (kept in the git dir)."""

    folder = project.git_dir / "autoresearch"
    folder.mkdir(exist_ok=True)
    path = folder / f"stop-{''.join(c for c in session if c.isalnum() or c == '-')[:64]}.json"
    if path.exists():
        return datetime.fromisoformat(json.loads(path.read_text())["deadline"])
    hour, minute = (int(x) for x in run_until.split(":"))
    deadline = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if deadline <= now:
        deadline += timedelta(days=1)
    path.write_text(json.dumps({"deadline": deadline.isoformat(), "first_seen": now.isoformat()}))
    return deadline
