from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = gettext_lazy("Events")

    def ready(self) -> None:
        from core import directory
        from events import selectors

        # Other domains' staff pages name events, organizations and sections through core.directory.
        directory.provide(directory.EVENT, lambda ids: selectors.event_titles(event_ids=ids))
        directory.provide(
            directory.EVENTS_OF_ORGANIZATIONS,
            lambda ids: selectors.event_choices_for_organizations(organization_ids=ids),
        )
        directory.provide(directory.ORGANIZATION, lambda ids: selectors.organization_names(organization_ids=ids))
        directory.provide(directory.SECTION, lambda ids: selectors.section_names(section_ids=ids))
