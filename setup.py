"""Build hook: pack the checkout's templates, static files and data into the wheel.

The checkout keeps ``templates/``, ``static/`` and ``data/`` at the top level,
beside the package. A wheel has only the package, so they are copied into it
here; :mod:`locator.config` finds them there when no checkout is around.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ASSETS = ("templates", "static", "data/boundaries", "data/stations")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "locator"
        for name in ASSETS:
            shutil.copytree(HERE / name, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithAssets})
