"""Staff forms of the events domain (admin): seat-grid generator, event set-up checks, cancellation."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.utils.translation import gettext, gettext_lazy

from core.errors import InvalidInput
from core.timefmt import zone_choices
from events.contract import EventStatus, SectionMapShape, VenueLayoutShape
from events.models import MIN_ARC_RADIUS, Event, EventSection, Section, Venue
from events.services import MAX_GENERAL_CAPACITY, MAX_ROWS, MAX_SEATS_PER_ROW, parse_seat_refs


class SectionGridForm(forms.Form):
    KIND_CHOICES = [("SEATED", "Seated grid"), ("GENERAL", "General admission (standing)")]
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="SEATED", widget=forms.RadioSelect)
    rows = forms.IntegerField(min_value=1, max_value=MAX_ROWS, required=False, initial=10)
    seats_per_row = forms.IntegerField(min_value=1, max_value=MAX_SEATS_PER_ROW, required=False, initial=20)
    row_labels = forms.ChoiceField(
        choices=[("letters", "Letters: A, B, … Z, AA, AB"), ("numbers", "Numbers: 1, 2, 3, …")], initial="letters"
    )
    direction = forms.ChoiceField(
        choices=[("LTR", "Seat 1 on the left (left to right)"), ("RTL", "Seat 1 on the right (right to left)")],
        initial="LTR",
    )
    aisles_after = forms.CharField(
        required=False,
        help_text=gettext_lazy("Aisle after these seat numbers, e.g. “5, 15” (seat numbers of every row)."),
    )
    accessible = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Wheelchair-accessible seats, e.g. “A1 A2 K20” (for numbered rows use row:seat, e.g. “3:12”)."
        ),
    )
    general_capacity = forms.IntegerField(
        min_value=1,
        max_value=MAX_GENERAL_CAPACITY,
        required=False,
        help_text=gettext_lazy("Places of a standing area."),
    )

    def clean_aisles_after(self) -> list[int]:
        raw = self.cleaned_data.get("aisles_after") or ""
        values = []
        for token in raw.replace(",", " ").split():
            if not token.isdigit():
                raise ValidationError(gettext("“%(token)s” is not a seat number.") % {"token": token})
            values.append(int(token))
        return values

    def clean_accessible(self) -> set[tuple[str, int]]:
        try:
            return parse_seat_refs(self.cleaned_data.get("accessible") or "")
        except InvalidInput as exc:
            raise ValidationError(exc.fields.get("accessible", [exc.detail])) from exc

    def clean(self):
        data = super().clean()
        if data.get("kind") == "GENERAL":
            if not data.get("general_capacity"):
                self.add_error("general_capacity", "Give the number of places.")
        else:
            for name in ("rows", "seats_per_row"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Required for a seated grid.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        if data["kind"] == "GENERAL":
            return {"general_capacity": data["general_capacity"]}
        return {
            "rows": data["rows"],
            "seats_per_row": data["seats_per_row"],
            "label_style": data["row_labels"],
            "direction": data["direction"],
            "aisles_after": data["aisles_after"],
            "accessible": data["accessible"],
        }

    @classmethod
    def initial_for(cls, section: Section) -> dict:
        generator = (section.layout or {}).get("generator") or {}
        if section.kind == Section.Kind.GENERAL:
            return {"kind": "GENERAL", "general_capacity": section.capacity or None}
        initial = {"kind": "SEATED"}
        if generator:
            initial.update(
                rows=generator.get("rows"),
                seats_per_row=generator.get("seats_per_row"),
                row_labels=generator.get("label_style", "letters"),
                direction=generator.get("direction", "LTR"),
                aisles_after=", ".join(str(a) for a in generator.get("aisles_after", [])),
                accessible=" ".join(generator.get("accessible", [])),
            )
        return initial


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = [
            "organization",
            "venue",
            "title",
            "slug",
            "description",
            "selection_mode",
            "starts_at",
            "doors_at",
            "ends_at",
            "sales_start",
            "sales_end",
        ]

    def clean(self):
        data = super().clean()
        organization, venue = data.get("organization"), data.get("venue")
        if organization and venue and venue.organization_id != organization.pk:
            self.add_error("venue", "This venue belongs to another organization.")
        starts_at, doors_at, ends_at = data.get("starts_at"), data.get("doors_at"), data.get("ends_at")
        if starts_at and doors_at and doors_at > starts_at:
            self.add_error("doors_at", "Doors open before the event starts.")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The event ends after it starts.")
        sales_start, sales_end = data.get("sales_start"), data.get("sales_end")
        if sales_start and sales_end and sales_start >= sales_end:
            self.add_error("sales_end", "Sales end after they start.")
        return data


class VenueAdminForm(forms.ModelForm):
    # A known IANA zone, chosen from a list: every time of the venue's events is shown in it, with its abbreviation.
    timezone = forms.ChoiceField(
        choices=zone_choices,
        initial="UTC",
        help_text=gettext_lazy("Times of this venue's events are shown in this zone."),
    )

    class Meta:
        model = Venue
        fields = ["organization", "name", "address", "city", "timezone", *Venue.STAGE_FIELDS]

    STAGE_FIELDS = Venue.STAGE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The stage is optional to type: a form without it (or a generator) keeps what the venue has.
        for name in self.STAGE_FIELDS:
            if name in self.fields:
                self.fields[name].required = False
        for name in ("stage_width", "stage_height"):
            if name in self.fields:
                self.fields[name].min_value = 10
                self.fields[name].validators.append(MinValueValidator(10))

    def clean(self):
        data = super().clean()
        for name in self.STAGE_FIELDS:
            if data.get(name) in (None, ""):
                data[name] = getattr(self.instance, name)
        return data


class VenueLayoutForm(forms.Form):
    shape = forms.ChoiceField(choices=VenueLayoutShape.choices, widget=forms.RadioSelect)
    create_sections = forms.BooleanField(
        required=False,
        label=gettext_lazy("Create the shape's usual sections if the venue has none"),
        help_text=gettext_lazy(
            "Seated sections get seat grids from the seat-grid generator; you can regenerate each later."
        ),
    )


class SectionAdminForm(forms.ModelForm):
    class Meta:
        model = Section
        # The layout and capacity are written by the seat-grid generator, never typed in by hand.
        fields = [
            "venue",
            "name",
            "map_x",
            "map_y",
            "map_rotation",
            "map_shape",
            "map_arc_radius",
            "map_width",
            "map_height",
            "sort_order",
        ]
        help_texts = {
            "map_x": "Venue-map position of the middle of the section's front edge (nearest the stage).",
            "map_rotation": "Degrees clockwise; 0 puts the stage above the section.",
            "map_arc_radius": "For curved rows: how far in front of the front row the rows curve around.",
            "map_width": "Footprint on the map; a seat-grid generator writes it from the seats.",
        }

    def clean(self):
        data = super().clean()
        shape, radius = data.get("map_shape"), data.get("map_arc_radius") or 0
        if shape == SectionMapShape.ARC and radius < MIN_ARC_RADIUS:
            self.add_error("map_arc_radius", f"Curved rows need a radius of at least {MIN_ARC_RADIUS}.")
        if shape == SectionMapShape.RECT and radius:
            self.add_error("map_arc_radius", "Straight rows have no radius: set it to 0 or choose curved rows.")
        return data


class EventSectionInlineForm(forms.ModelForm):
    class Meta:
        model = EventSection
        fields = ["section", "tier", "capacity_override", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("section")
        if not self.instance._state.adding and field is not None:
            # An attached section stays the section it is (its places exist), so its row offers just its own name:
            # every section of the venue on every row of an 80-section stadium is 6,400 options and seconds of
            # rendering.
            field.disabled = True
            own = str(self.instance.section_id)
            field.choices = [(value, label) for value, label in field.choices if str(value) == own]
        tier = self.fields.get("tier")
        if not self.instance._state.adding and tier is not None and self.instance.event.status != EventStatus.DRAFT:
            # Its places carry their price: moving a section on sale to another tier would show one price and
            # charge another. Prices change through the audited reprice.
            tier.disabled = True
            own = str(self.instance.tier_id)
            tier.choices = [(value, label) for value, label in tier.choices if str(value) == own]

    def clean(self):
        data = super().clean()
        event = self.instance.event if self.instance.event_id else None
        section, tier = data.get("section"), data.get("tier")
        if event is not None:
            if section and section.venue_id != event.venue_id:
                self.add_error("section", "This section is in another venue.")
            if tier and tier.event_id is not None and tier.event_id != event.pk:
                self.add_error("tier", "This tier belongs to another event.")
        if section and data.get("capacity_override") is not None and section.kind == Section.Kind.SEATED:
            self.add_error("capacity_override", "Only a general-admission section takes a capacity override.")
        return data
