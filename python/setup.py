"""Builds entroscope's extension module with the project's CMake (the same libraries as the CLI)
and installs it with the package's Python files and the demo models.

    python3 -m pip install --no-build-isolation --no-index ./python

Needs what scripts/setup.sh installs (a C++20 compiler, CMake, Ninja, the Debian -dev packages,
pybind11-dev, python3-dev); downloads nothing. Builds in ENTROSCOPE_BUILD_DIR, else in the
repository's build/ when scripts/build.sh configured it with the module, else in build/python-wheel."""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository this package folder belongs to (ENTROSCOPE_SOURCE_DIR when pip builds a copy of it).
REPO = os.path.abspath(os.environ.get("ENTROSCOPE_SOURCE_DIR", os.path.dirname(HERE)))


def version():
    text = open(os.path.join(REPO, "CMakeLists.txt")).read()
    return re.search(r"project\(entroscope VERSION ([0-9.]+)", text).group(1)


def cmake_build_dir():
    """The build folder to build _entroscope in: ENTROSCOPE_BUILD_DIR, else the repository's build/
    when it is configured with the Python module (scripts/build.sh's, so nothing is compiled twice),
    else a folder of its own."""
    chosen = os.environ.get("ENTROSCOPE_BUILD_DIR")
    if chosen:
        return os.path.abspath(chosen), True
    main = os.path.join(REPO, "build")
    cache = os.path.join(main, "CMakeCache.txt")
    if os.path.exists(cache) and "ENTROSCOPE_PYTHON:BOOL=ON" in open(cache).read():
        return main, True
    return os.path.join(REPO, "build", "python-wheel"), False


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        build, reuse = cmake_build_dir()
        if not (reuse and os.path.exists(os.path.join(build, "CMakeCache.txt"))):
            subprocess.check_call(["cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                                   "-DENTROSCOPE_PYTHON=ON", "-DENTROSCOPE_BUILD_TESTS=OFF",
                                   "-DENTROSCOPE_BUILD_BENCH=OFF", f"-DPython3_EXECUTABLE={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "_entroscope"])
        package = os.path.join(self.build_lib, "entroscope")
        built = os.path.join(build, "python", "entroscope")
        modules = [n for n in os.listdir(built) if n.startswith("_entroscope") and n.endswith(".so")]
        if not modules:
            raise SystemExit(f"setup.py: no _entroscope module in {built} after the build")
        for name in modules:
            shutil.copy2(os.path.join(built, name), os.path.join(package, name))
        models = os.path.join(package, "models")
        if os.path.isdir(models):
            shutil.rmtree(models)
        shutil.copytree(os.path.join(REPO, "models"), models)


class BinaryDistribution(Distribution):
    """The wheel holds a compiled module: tag it for this Python and platform, not py3-none-any."""

    def has_ext_modules(self):
        return True


setup(
    name="entroscope",
    distclass=BinaryDistribution,
    version=version(),
    packages=["entroscope"],
    package_data={"entroscope": ["*.pyi", "py.typed"]},
    cmdclass={"build_py": BuildWithCMake},
    zip_safe=False,
)
