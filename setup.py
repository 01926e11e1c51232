"""Only the optional compiled simulate core; everything else is in setup.cfg.

setup.cfg cannot declare extension modules, hence this file. Where Cython and a C compiler
are there, the hot path of ``programkit simulate`` (the modules in
``programkit.simulate.core.COMPILED_MODULES``) is compiled beside its ``.py`` sources; where
compiling fails, the package installs without it and the pure-Python core runs, with the same
output. ``PROGRAMKIT_PURE_PYTHON=1`` at install time skips the compile.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CORE = ("person", "conditions", "digits", "lifecycle_engine", "campaign_engine", "result", "engine", "event_ranges")  # = core.COMPILED_MODULES


class OptionalBuildExt(build_ext):
    """Build the compiled core if possible; warn and go on without it otherwise. The modules compile
    in parallel, at -O1: most of their time is calls into Python's C API, which -O2 does not speed
    up, and -O1 halves the compile time."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = min(len(CORE), os.cpu_count() or 1)

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:  # noqa: BLE001  (no compiler, no Python headers …: the pure core runs)
            print(f"programkit: the compiled simulate core was not built ({e}); the pure-Python core is used")

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as e:  # noqa: BLE001
            print(f"programkit: {ext.name} was not compiled ({e}); the pure-Python core is used")


def extensions() -> list:
    if os.environ.get("PROGRAMKIT_PURE_PYTHON", "").strip() not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    try:
        modules = [Extension(f"programkit.simulate.{name}", [f"programkit/simulate/{name}.py"],
                             extra_compile_args=["-O1"] if os.name == "posix" else []) for name in CORE]
        return cythonize(modules, quiet=True, compiler_directives={"language_level": "3"})
    except Exception as e:  # noqa: BLE001
        print(f"programkit: Cython could not translate the simulate core ({e}); the pure-Python core is used")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
