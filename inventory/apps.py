from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = gettext_lazy("Inventory")

    def ready(self) -> None:
        from core import directory
        from inventory import selectors

        # Staff pages name places ("Row A, seat 3") through core.directory, never by their raw id.
        directory.provide(directory.SEAT, lambda ids: selectors.seat_labels(seat_ids=ids))
