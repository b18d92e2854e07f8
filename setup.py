"""Build step: ship the template inside the wheel, so `autoresearch init` works from an installed package.

Usage: pip wheel --no-deps -w dist .   (the metadata lives in pyproject.toml; this adds one step)

A regular (not editable) build copies the checkout's files that git does not ignore into
autoresearch/_template/; git keeps one copy. An editable install skips it: init then reads the checkout.
"""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithTemplate(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not (HERE / ".git").exists():
            raise SystemExit(f"{HERE} is not a git checkout: build the wheel from a clone, where git lists the template files")
        sys.path.insert(0, str(HERE / "src"))
        from autoresearch.scaffold import checkout_files

        target = Path(self.build_lib) / "autoresearch" / "_template"
        shutil.rmtree(target, ignore_errors=True)
        for rel in checkout_files(HERE):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(HERE / rel, target / rel)


setup(cmdclass={"build_py": BuildWithTemplate})
