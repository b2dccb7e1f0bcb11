"""Build hook: a wheel carries the migrations, templates, static files and compiled catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("migrations", "templates", "static", "manifest.json")  # top-level, copied to pointsapp/bundle/
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".npm", "node_modules")


class BuildWithResources(build_py):
    """Copy the top-level resources into the package and compile the .po catalogs to .mo."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout itself
            return
        package = Path(self.build_lib) / "pointsapp"
        bundle = package / "bundle"
        shutil.rmtree(bundle, ignore_errors=True)
        for name in BUNDLED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, bundle / name, ignore=SKIPPED)
            else:
                bundle.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, bundle / name)
        self._compile_catalogs(package / "translations")

    @staticmethod
    def _compile_catalogs(directory: Path) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in directory.glob("*/LC_MESSAGES/*.po"):
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog, use_fuzzy=True)


setup(cmdclass={"build_py": BuildWithResources})
