# autoresearch recipes: `just --list` shows them. Each wraps one command.
# The root checkout's .venv serves its worktrees too (5_worktrees/<slug>/../../.venv).
export PATH := justfile_directory() + "/.venv/bin:" + justfile_directory() + "/../../.venv/bin:" + env_var("PATH")

# list the recipes
default:
    @just --list

# train (in a confined process) + score under the default profile (cuda if a GPU, else cpu); one row in results.tsv: [--seed N] [--seeds N] [--verbose]
[positional-arguments]
eval *ARGS:
    python eval.py "$@"

# the same path with the tiny smoke profile (seconds); writes no row
[positional-arguments]
smoke *ARGS:
    python eval.py --profile smoke "$@"

# the fast test suite (what README and CI run; minutes)
[positional-arguments]
test *ARGS:
    python -m pytest -q -m "not slow" "$@"

# every test, the slow end-to-end ones included (CI runs it too)
[positional-arguments]
test-all *ARGS:
    python -m pytest -q "$@"

# ruff (lint and format) and mypy, on the toolkit, the tests and the ML files
lint:
    ruff check . && ruff format --check . && mypy && t="$(mktemp -d)" && cp src/autoresearch/examples/digits/*.py "$t" && cd "$t" && mypy --config-file= --ignore-missing-imports --check-untyped-defs eval.py train.py model.py

# the benchmarks, a table each then a summary (~6 min on 2 cores; figures in bench/out/, see BENCHMARKS.md): [--only NAME..] [--quick] [--strict]
[positional-arguments]
bench *ARGS:
    python bench/run_all.py "$@"

# is the metric sound? the baseline on N seeds + a repeat: runtime, spread, detectable effect, determinism, split; sets the noise threshold: [--seeds 3] [--profile cpu]
[positional-arguments]
calibrate *ARGS:
    autoresearch calibrate "$@"

# is B better than A beyond the noise? idea slugs, git revisions (main) or code hashes, paired by seed: just compare main SLUG [--seeds 3]
[positional-arguments]
compare A B *ARGS:
    @shift 2; autoresearch compare {{quote(A)}} {{quote(B)}} "$@"

# merge exp/SLUG into main only if it beats main's code beyond the noise (runs the calibrated seeds); journals the decision
[positional-arguments]
keep SLUG *ARGS:
    @shift 1; autoresearch keep {{quote(SLUG)}} "$@"

# the file rules and the record's integrity: one line per violation (exit 1), warnings, or "check: ok"
check:
    autoresearch check

# the dashboard, ending with the next step: ideas and mode, worktrees, results against main's code, journal, queue
[positional-arguments]
status *ARGS:
    autoresearch status "$@"

# write 9_reports/progress.png: the metric per experiment, running best, crashes, best ideas labelled
plot:
    autoresearch plot

# read results.tsv: [show --last N] | best | leaderboard [--by idea] | export --format karpathy
[positional-arguments]
results *ARGS:
    autoresearch results "$@"

# ok rows ranked by the metric per profile: [--by row|idea] [--last N]
[positional-arguments]
leaderboard *ARGS:
    autoresearch results leaderboard "$@"

# write a new idea from the template: just idea SLUG "title" [--hypothesis "..."]
[positional-arguments]
idea SLUG TITLE *ARGS:
    @shift 2; autoresearch idea new {{quote(SLUG)}} --title {{quote(TITLE)}} "$@"

# the ideas: status, rating, critique, result rows, best value
ideas:
    autoresearch idea list

# append a dated critique to an idea: just critique SLUG --file critique.md (or --text "...")
[positional-arguments]
critique SLUG *ARGS:
    @shift 1; autoresearch idea critique {{quote(SLUG)}} "$@"

# rate an idea from 1 (weak) to 10 (strong)
rate SLUG N:
    autoresearch idea rate {{quote(SLUG)}} {{quote(N)}}

# open the worktree 5_worktrees/SLUG on a new branch exp/SLUG from main (the champion); marks the idea implementing
wt SLUG:
    autoresearch worktree new {{quote(SLUG)}}

# the worktrees: branch, clean or dirty, commits ahead of main, last result
wts:
    autoresearch worktree list

# remove 5_worktrees/SLUG; its branch and run folders stay: [--delete-branch] [--force]
[positional-arguments]
wt-rm SLUG *ARGS:
    @shift 1; autoresearch worktree remove {{quote(SLUG)}} "$@"

# write 9_reports/{date}_SLUG.md prefilled with the idea's rows, deltas and reproduce commands
report SLUG:
    autoresearch report new {{quote(SLUG)}}

# add an entry at the top of a journal: just journal "title" --observation "..." --inference "..." [--slug SLUG] [--journal meta]
[positional-arguments]
journal TITLE *ARGS:
    @shift 1; autoresearch journal add --title {{quote(TITLE)}} "$@"

# queue a run with its question and hypothesis; prints the job id: just queue "Q: does X help? H: -0.02 bpb" just eval
[positional-arguments]
queue LABEL *CMD:
    @shift 1; autoresearch queue add --label {{quote(LABEL)}} -- "$@"

# the queue: id, state, label, start, runtime, and the metric once a job's row is in
queue-status:
    autoresearch queue status

# finished jobs: the label's question and hypothesis next to the observed metric and verdict (for the journal)
queue-review:
    autoresearch queue review

# print a job's output
queue-log ID:
    autoresearch queue log {{quote(ID)}}

# print a job's output as it grows, until it ends
queue-follow ID:
    autoresearch queue follow {{quote(ID)}}

# wait for jobs to end (default: all of this project's unfinished ones); exit 1 unless all are done
[positional-arguments]
queue-wait *IDS:
    autoresearch queue wait "$@"

# stop a running job, or drop a queued one
queue-kill ID:
    autoresearch queue kill {{quote(ID)}}

# a new project from this template's last commit: just new ../myproj [--project "..."] [--metric NAME] [--direction lower|higher] [--hypothesis-space "..."] [--example lm]
[no-cd]
[positional-arguments]
new DIR *ARGS:
    @shift 1; autoresearch init {{quote(DIR)}} "$@"

# merge the template's last commit into this project (META_MODE: it changes FROZEN files): [--template PATH]
[positional-arguments]
update *ARGS:
    autoresearch update "$@"

# after a change to the dependencies in pyproject.toml: constraints.txt, the lock of every platform (setup.sh installs it)
lock:
    bash .ci/lock
