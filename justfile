# autoresearch recipes: `just --list` shows them. Each wraps one command.
# The root checkout's .venv serves its worktrees too (5_worktrees/<slug>/../../.venv).
export PATH := justfile_directory() + "/.venv/bin:" + justfile_directory() + "/../../.venv/bin:" + env_var("PATH")

# list the recipes
default:
    @just --list

# train + score under the default profile (cuda if a GPU, else cpu); appends one row to results.tsv
[positional-arguments]
eval *ARGS:
    python eval.py "$@"

# the same path with the tiny smoke profile (seconds); writes no row
[positional-arguments]
smoke *ARGS:
    python eval.py --profile smoke "$@"

# run the test suite
[positional-arguments]
test *ARGS:
    python -m pytest -q "$@"

# the dashboard: ideas and mode, worktrees, baseline/best/last results, calibration, journal, queue
status:
    autoresearch status

# write 9_reports/progress.png: val_bpb per experiment, running best, crashes, best ideas labelled
plot:
    autoresearch plot

# read results.tsv: show [--last N] | best | leaderboard [--by idea] [--last N]
[positional-arguments]
results *ARGS:
    autoresearch results "$@"

# the best ok row per profile
best:
    autoresearch results best

# ok rows ranked by val_bpb per profile: [--by row|idea] [--last N]
[positional-arguments]
leaderboard *ARGS:
    autoresearch results leaderboard "$@"

# write a new idea from the template: just idea SLUG "title" [--hypothesis "..."]
[positional-arguments]
idea SLUG TITLE *ARGS:
    @shift 2; autoresearch idea new {{quote(SLUG)}} --title {{quote(TITLE)}} "$@"

# the ideas: status, rating, critique, result rows, best val_bpb
ideas:
    autoresearch idea list

# append a dated critique to an idea: just critique SLUG --file critique.md (or --text "...")
[positional-arguments]
critique SLUG *ARGS:
    @shift 1; autoresearch idea critique {{quote(SLUG)}} "$@"

# rate an idea from 1 (weak) to 10 (strong)
rate SLUG N:
    autoresearch idea rate {{quote(SLUG)}} {{quote(N)}}

# open the worktree 5_worktrees/SLUG on a new branch exp/SLUG from main; marks the idea implementing
wt SLUG:
    autoresearch worktree new {{quote(SLUG)}}

# the worktrees: branch, clean or dirty, commits ahead of main, last result
wts:
    autoresearch worktree list

# remove 5_worktrees/SLUG and keep its branch: [--delete-branch] [--force]
[positional-arguments]
wt-rm SLUG *ARGS:
    @shift 1; autoresearch worktree remove {{quote(SLUG)}} "$@"

# write 9_reports/{date}_SLUG.md prefilled with the idea's rows, deltas and reproduce commands
report SLUG:
    autoresearch report new {{quote(SLUG)}}

# add an entry at the top of a journal: just journal "title" --observation "..." --inference "..." [--slug SLUG] [--journal meta|human]
[positional-arguments]
journal TITLE *ARGS:
    @shift 1; autoresearch journal add --title {{quote(TITLE)}} "$@"
