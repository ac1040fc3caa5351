"""A JupyterLab app for Datainsight's panel, served by jupyterlab_server.

The app (frontend/app, bundled into frontend/app/build by
``npm run build``) is JupyterLab's own extensions from npm with the panel
as a source plugin: it needs no ``jupyterlab`` Python package. The
Datainsight server extension (``datainsight.serverext``, in
kernelgw/python) is enabled by the class itself, so the panel's
``/datainsight/*`` calls reach the sidecar behind Jupyter's own
authentication::

    PYTHONPATH=frontend/app:kernelgw/python /usr/bin/python3 -c \\
        'import datainsight_lab; datainsight_lab.DatainsightLab.launch_instance()' \\
        --port 8888 --ServerApp.root_dir=examples

``datainsight`` must be on PATH (or set
``--DatainsightExtension.binary=/path/to/datainsight``).

With ``DATAINSIGHT_LAB_EXTENSIONS=DIR`` (or
``--DatainsightLab.extra_labextensions_path=DIR``) the app loads the
prebuilt extensions in DIR, as JupyterLab does; a prebuilt panel found
there replaces the source one.
"""

import os

from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir
from jupyterlab_server import LabServerApp
from traitlets import default

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("DATAINSIGHT_LAB_BUILD", os.path.join(HERE, "build"))


class DatainsightLab(LabServerApp):
    name = "datainsight_lab"
    app_name = "Datainsight Lab"
    app_version = "0.1.0"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False

    # The server extension that starts the sidecar and proxies it, as a
    # class attribute (jupyter_server reads it before the command line).
    serverapp_config = {
        "jpserver_extensions": {"datainsight": True},
    }

    static_dir = os.path.join(BUILD, "static")
    templates_dir = os.path.join(HERE, "templates")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    app_settings_dir = os.path.join(BUILD, "settings")

    @default("extra_labextensions_path")
    def _default_extra_labextensions_path(self):
        # Folders of prebuilt extensions to load ($DATAINSIGHT_LAB_EXTENSIONS,
        # separated like PATH), e.g. the share/jupyter/labextensions of an
        # install of the datainsight Python package.
        paths = os.environ.get("DATAINSIGHT_LAB_EXTENSIONS", "")
        return [p for p in paths.split(os.pathsep) if p]

    def initialize_settings(self):
        # Prebuilt (federated) extensions only from extra_labextensions_path,
        # never from the machine's Jupyter folders: unless one is given, the
        # app runs the panel from source.
        self.labextensions_path = []
        # The settings and workspaces of this app, apart from JupyterLab's.
        if not self.user_settings_dir:
            self.user_settings_dir = os.path.join(jupyter_config_dir(), "datainsight_lab", "user-settings")
        if not self.workspaces_dir:
            self.workspaces_dir = os.path.join(jupyter_data_dir(), "datainsight_lab", "workspaces")
        super().initialize_settings()


def _jupyter_server_extension_points():
    return [{"module": "datainsight_lab", "app": DatainsightLab}]


main = launch_new_instance = DatainsightLab.launch_instance

if __name__ == "__main__":
    main()
