"""pip install . --no-build-isolation: builds the Python binding (python/, docs/python.md) with
CMake and installs the package `switchyard`.

The extension and the library it links (libswitchyard.so) are built by CMake in build-python/
(SWITCHYARD_BUILD_DIR to choose another folder: one configured already is built as it is, e.g. the
build/ of scripts/test; SWITCHYARD_BUILD_JOBS: parallel jobs, default 2),
which assembles the whole package in <build>/python/switchyard/; this script only copies that
folder into the wheel. Needs no download: setuptools and wheel come from Debian
(python3-setuptools, python3-wheel), the compilers and libraries from scripts/install-deps.
"""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = pathlib.Path(__file__).resolve().parent


class BuildWithCMake(build_py):
    def run(self):
        build = pathlib.Path(os.environ.get("SWITCHYARD_BUILD_DIR", ROOT / "build-python"))
        jobs = os.environ.get("SWITCHYARD_BUILD_JOBS", "2")
        # A build folder of one's own that is configured already (SWITCHYARD_BUILD_DIR=build) is
        # built as it is; otherwise it is configured for the package.
        if "SWITCHYARD_BUILD_DIR" not in os.environ or not (build / "CMakeCache.txt").exists():
            self.configure(build)
        subprocess.run(["cmake", "--build", str(build), "-j", jobs, "--target", "switchyard_python"],
                       check=True)
        target = pathlib.Path(self.build_lib) / "switchyard"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(build / "python" / "switchyard", target,
                        ignore=shutil.ignore_patterns("__pycache__"), symlinks=False)

    @staticmethod
    def configure(build):
        subprocess.run(
            ["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja",
             # scripts/test's flags: g++ 12 at -O3 reports false -Wrestrict errors in libstdc++,
             # and the same flags let ccache reuse a scripts/test build's objects.
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG",
             "-DSWITCHYARD_PYTHON=ON", "-DSWITCHYARD_UNITY_BUILD=ON",
             "-DSWITCHYARD_BUILD_TESTS=OFF", "-DSWITCHYARD_BUILD_BENCH=OFF",
             "-DSWITCHYARD_BUILD_EXAMPLES=OFF", f"-DPython_EXECUTABLE={sys.executable}"],
            check=True)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):  # a platform wheel (the package holds a compiled module)
        return True


setup(
    name="switchyard",
    version="0.1.0",
    description="Fault-tolerant orchestration runtime for tool-using LLM agents (C++ engine)",
    packages=["switchyard"],
    package_dir={"switchyard": "python/switchyard"},
    package_data={"switchyard": ["*.so", "*.so.*", "*.pyi", "py.typed"]},
    python_requires=">=3.9",
    cmdclass={"build_py": BuildWithCMake},
    distclass=BinaryDistribution,
    zip_safe=False,
)
