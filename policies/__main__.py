"""Entry point the engine runs: builds the PolicyPack and nothing else, because
``PolicyPack(...)`` starts a gRPC server and never returns.

The Python language host runs a pack as ``python -u -m pulumi.policy <engine> <pack dir>`` with
the pack directory as working directory, and ``pulumi.policy`` executes this file with
``runpy.run_path``: only the pack directory is on ``sys.path``, under whatever name it has (a
published pack is installed as ``~/.pulumi/policies/<org>/<pack>/<version>/``). So the rule
modules, which import each other as ``policies.*``, get this directory registered as the
``policies`` package first. Nothing outside this directory is imported.
"""

import gc
import importlib.util
import signal
import sys
import threading
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if "policies" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "policies", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
    )
    assert _spec is not None and _spec.loader is not None
    sys.modules["policies"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["policies"])

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies import ALL_RULES, PACK_NAME  # noqa: E402
from policies._decode_once import install  # noqa: E402
from policies._parent_watch import watch_parent  # noqa: E402

install()  # decode each resource once per request, not once per policy
# The pack stops on SIGINT (the engine's stop, preflight's, and the lifeline's own). A process
# started with SIGINT ignored (a background job of a non-interactive shell, `cmd &`) inherits
# that, and Python then installs no KeyboardInterrupt handler: every stop did nothing and the
# server outlived its preview. Restore Python's default, as a foreground start has it.
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGINT, signal.default_int_handler)
watch_parent()  # stop when the parent that opted in is gone, even if it was killed

# Everything imported so far lives as long as the server: frozen out of the collector's reach,
# the full collections an AnalyzeStack of 1,400 resources triggers no longer walk the module
# graphs of grpc, protobuf and the rules each time (its CPU time varied 0.33-0.88 s with them,
# 0.30-0.34 s without; measured for issue 22).
gc.freeze()

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[rule.policy for rule in ALL_RULES],
    description="SecureCart data-tier guardrails: Multi-AZ, PITR, encryption, secrets, network, "
    "observability, cost, resilience, tags.",
)
