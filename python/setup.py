"""Builds the cffi extension ddata._ddata (API mode); see ddata_build.py."""
from setuptools import setup

setup(cffi_modules=["ddata_build.py:ffibuilder"])
