# The compiled cffi extension (API mode), built by python/ddata_build.py.
from typing import Any

ffi: Any
lib: Any
