"""Versions: the distribution's, and the plugin API's that plugins declare they target."""

__version__ = "0.1.0"

#: Plugins set ``olive_plugin_api`` to this; a different major version is refused at load.
PLUGIN_API_VERSION = "1.0"
