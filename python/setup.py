"""Builds telltale._core by running the project's own CMake build.

The C++ engine (AES-NI PRF, libsodium keys, OpenSSL HKDF, Eigen) is built by
CMake from the repository root (this file's parent directory, or
$TELLTALE_SOURCE_DIR), configured with TELLTALE_BUILD_PYTHON=ON for the
interpreter running pip; the resulting extension is copied into the wheel.
CMAKE_BUILD_PARALLEL_LEVEL limits build jobs (default 2).

TELLTALE_CMAKE_BUILD_DIR names an existing build directory configured with
TELLTALE_BUILD_PYTHON=ON (e.g. the top-level `build/`): its extension is
brought up to date there and packaged, without configuring it again. The
test suite uses this to check the pip path without a second full build.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("TELLTALE_SOURCE_DIR", HERE.parent)).resolve()


class CMakeBuildExt(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if not (ROOT / "CMakeLists.txt").exists():
            raise RuntimeError(f"telltale: no CMakeLists.txt in {ROOT}; set TELLTALE_SOURCE_DIR to the repository root")
        existing = os.environ.get("TELLTALE_CMAKE_BUILD_DIR")
        if existing:
            build_dir = Path(existing).resolve()
            if not (build_dir / "CMakeCache.txt").exists():
                raise RuntimeError(f"telltale: TELLTALE_CMAKE_BUILD_DIR={existing} is not a configured CMake build")
            self._build_and_copy(build_dir, ext)
            return
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DTELLTALE_BUILD_PYTHON=ON",
            "-DTELLTALE_BUILD_TESTS=OFF",
            "-DTELLTALE_BUILD_BENCH=OFF",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        self._build_and_copy(build_dir, ext)

    def _build_and_copy(self, build_dir: Path, ext: Extension) -> None:
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "telltale_python_core", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "telltale").glob("_core*.so"))
        if not built:
            raise RuntimeError(f"telltale: CMake built no _core extension under {build_dir}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


setup(
    ext_modules=[Extension("telltale._core", sources=[])],
    cmdclass={"build_ext": CMakeBuildExt},
)
