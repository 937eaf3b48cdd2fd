from django.apps import AppConfig


class TicketRemasterConfig(AppConfig):
    """Project-wide pieces that need tables: the system configuration (default alias, with accounts)."""

    name = "ticketremaster"
    verbose_name = "System"
    default_auto_field = "django.db.models.BigAutoField"
