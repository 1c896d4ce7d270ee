"""Core's commands by import path. The built-in plugin registers them like any plugin's
commands, so that no plugin can take their names; this module imports nothing."""

CORE_COMMANDS = {
    "run": "olive_core.cli.run:run",
    "plugins": "olive_core.cli.plugins:plugins",
    "passes": "olive_core.cli.passes:passes",
    "schema": "olive_core.cli.schema:schema",
    "cache": "olive_core.cli.cache:cache",
    "report": "olive_core.cli.html_report:report",
}
