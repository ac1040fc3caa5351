"""Datainsight from inside a Jupyter kernel.

``datainsight.client`` talks to the sidecar (``datainsight serve``) over
JSON-RPC; ``%load_ext datainsight`` adds the ``%datainsight`` magic:

    %datainsight run [NOTEBOOK] [--backend argo] [--param k=v]... [-d]
    %datainsight status [RUN]
    %datainsight logs RUN [STEP]

Standard library only (the magic needs IPython, which a kernel has).

``datainsight.serverext`` is a Jupyter server extension (it needs
jupyter_server and tornado): enabled with
``jupyter server --ServerApp.jpserver_extensions="{'datainsight': True}"``, it
runs the sidecar beside the server and proxies it under ``/datainsight/``.
"""

from .client import Client, Error, NotConfigured, RPCError, Unauthorized, Unreachable  # noqa: F401

__version__ = "0.1.0"


def load_ipython_extension(ipython):
    """Registers %datainsight (IPython calls it on %load_ext datainsight)."""
    from .magics import Magic

    magic = Magic(shell=ipython)
    ipython.register_magic_function(magic, magic_kind="line", magic_name="datainsight")


def unload_ipython_extension(ipython):
    ipython.magics_manager.magics["line"].pop("datainsight", None)


def _jupyter_server_extension_points():
    """The Jupyter server extension (datainsight.serverext): runs the sidecar
    beside the server and proxies it under /datainsight/."""
    return [{"module": "datainsight.serverext"}]
