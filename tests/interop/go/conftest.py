# Fixtures live in interop_go.py so test modules can import its helpers too.
from interop_go import _binaries_exist, sandbox  # noqa: F401
