"""Builds the cffi extension ddata._ddata (API mode); see ddata_build.py.

cffi compiles it against Python's limited API (ddata/_ddata.abi3.so), so
the wheel is tagged abi3 from CPython 3.8: one wheel for every CPython 3.8+.
"""
from setuptools import setup

setup(cffi_modules=["ddata_build.py:ffibuilder"], options={"bdist_wheel": {"py_limited_api": "cp38"}})
