"""Optional: the hot-path modules compiled by mypyc, when GW467_COMPILE=1 (`make compile`).

Everything else about the package is in pyproject.toml. Without GW467_COMPILE the build
is pure Python, as before. With it, the modules of `gateway.hot_path.HOT_PATH`
become extension modules (each with its own mypyc runtime library, so nothing lands
outside the package); their sources stay in place as the fallback, and gateway/compiled-sources.json
records the SHA-256 of each source built.
`make compile` builds them in place: GW467_COMPILE=1 python setup.py build_ext --inplace.
"""

import os
import runpy

from setuptools import setup

ext_modules = []
if os.environ.get("GW467_COMPILE") == "1":
    from mypyc.build import mypycify

    # Read from the file itself: importing `gateway` would need its dependencies at build time.
    implementation = runpy.run_path("gateway/hot_path.py")
    hot_path = implementation["HOT_PATH"]
    sources = [module.replace(".", "/") + ".py" for module in hot_path]
    ext_modules = mypycify(sources, separate=True, opt_level="3")

setup(ext_modules=ext_modules)

if ext_modules:
    implementation["record_build"]()  # built: note which sources (the suite refuses stale builds)
