from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations tooling above every domain: the invariant checker, flow recovery, demo data. No tables."""

    name = "ops"
    verbose_name = "Operations"
