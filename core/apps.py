from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy


class CoreConfig(AppConfig):
    """The ground floor: building blocks every domain uses, and the system configuration table (default alias)."""

    name = "core"
    verbose_name = gettext_lazy("System")

    def ready(self) -> None:
        from core import checks  # noqa: F401  (registers the system checks)


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (core/admin_site.py)."""

    default_site = "core.admin_site.StaffAdminSite"
