"""Builds entroscope's extension module with the project's CMake (the same libraries as the CLI)
and installs it with the package's Python files and the demo models.

    python3 -m pip install --no-build-isolation --no-index ./python

Needs what scripts/setup.sh installs (a C++20 compiler, CMake, Ninja, the Debian -dev packages,
pybind11-dev, python3-dev); downloads nothing. ENTROSCOPE_BUILD_DIR reuses a CMake build folder
(default: build/python-wheel under the repository)."""
import os
import re
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def version():
    text = open(os.path.join(REPO, "CMakeLists.txt")).read()
    return re.search(r"project\(entroscope VERSION ([0-9.]+)", text).group(1)


class BuildWithCMake(build_py):
    def run(self):
        super().run()
        build = os.environ.get("ENTROSCOPE_BUILD_DIR", os.path.join(REPO, "build", "python-wheel"))
        configure = ["cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                     "-DENTROSCOPE_PYTHON=ON", "-DENTROSCOPE_BUILD_TESTS=OFF", "-DENTROSCOPE_BUILD_BENCH=OFF",
                     f"-DPython3_EXECUTABLE={sys.executable}"]
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build, "--target", "_entroscope"])
        package = os.path.join(self.build_lib, "entroscope")
        built = os.path.join(build, "python", "entroscope")
        for name in os.listdir(built):
            if name.startswith("_entroscope") and name.endswith(".so"):
                shutil.copy2(os.path.join(built, name), os.path.join(package, name))
        models = os.path.join(package, "models")
        if os.path.isdir(models):
            shutil.rmtree(models)
        shutil.copytree(os.path.join(REPO, "models"), models)


setup(
    name="entroscope",
    version=version(),
    packages=["entroscope"],
    package_data={"entroscope": ["*.pyi", "py.typed"]},
    cmdclass={"build_py": BuildWithCMake},
    zip_safe=False,
)
