# The interop/go suite's fixtures (a sandbox per test that must end with no
# process and no socket left), shared with the installed-library tests.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "interop", "go"))
from interop_go import _binaries_exist, sandbox  # noqa: E402,F401
