"""The evaluation core: the parent that scores, the confined child that trains (see sandbox.py)."""
