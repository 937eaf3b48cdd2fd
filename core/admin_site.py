"""The staff admin site: Django's, plus pages that an upper layer adds for a lower layer's models.

Publishing an event spans events and inventory; cancelling one refunds orders. Those pages are written in
``orders`` (the layer that drives cross-domain work) but belong on the event's admin page. ``orders`` registers
them here, under the event's admin URLs, and the event admin links to them by URL name: ``events`` never imports
``orders``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy


class StaffAdminSite(admin.AdminSite):
    site_header = gettext_lazy("TicketRemaster staff")
    site_title = gettext_lazy("TicketRemaster staff")
    index_title = gettext_lazy("Operations")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._extra_urls: list[URLPattern] = []

    def register_view(self, route: str, view: Callable, *, name: str) -> None:
        """Serve ``view`` at ``/admin/<route>`` for logged-in staff (the view checks its own capability)."""
        self._extra_urls.append(path(route, self.admin_view(view), name=name))

    def register_page(self, route: str, view: Callable, *, name: str) -> None:
        """``register_view`` for a module-level view that draws its page in this site's frame (``site.page``): it is
        called with ``site=`` this site."""
        self.register_view(route, update_wrapper(partial(view, site=self), view), name=name)

    def page(self, request: HttpRequest, template: str, *, title: Any, **context: Any) -> TemplateResponse:
        """A staff page of the site's own: the admin's frame (header, sidebar, user tools), its title, its content."""
        return TemplateResponse(request, template, {**self.each_context(request), "title": title, **context})

    def get_urls(self) -> list:
        # First, so that ``events/event/<id>/publish/`` wins over the event admin's ``<path:object_id>/``.
        return [*self._extra_urls, *super().get_urls()]
