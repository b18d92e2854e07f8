# autoresearch recipes: `just --list` shows them. Each wraps one command.
# The root checkout's .venv serves its worktrees too (5_worktrees/<slug>/../../.venv).
export PATH := justfile_directory() + "/.venv/bin:" + justfile_directory() + "/../../.venv/bin:" + env_var("PATH")

# list the recipes
default:
    @just --list

# train + score under the default profile (cuda if a GPU, else cpu); appends one row to results.tsv
eval *ARGS:
    python eval.py {{ARGS}}

# the same path with the tiny smoke profile (seconds); writes no row
smoke *ARGS:
    python eval.py --profile smoke {{ARGS}}

# run the test suite
test *ARGS:
    python -m pytest -q {{ARGS}}
