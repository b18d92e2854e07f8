"""Usage: python -m autoresearch --help"""

from autoresearch.cli import main

raise SystemExit(main())
