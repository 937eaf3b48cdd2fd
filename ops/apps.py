from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class OpsConfig(AppConfig):
    """Operations tooling above every domain: the invariant checker, flow recovery, demo data. No tables."""

    name = "ops"
    verbose_name = gettext_lazy("Operations")
