"""Venue layouts: the geometry buyers and staff see, the theatre/arena/stadium generators, the CHECKs, and the
admin's preview, section placement and generator page."""

from __future__ import annotations

import math

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.databases import ALL_DATABASES
from core.errors import InvalidInput
from events import DB_ALIAS, geometry
from events.contract import SectionMapShape, StageShape, VenueLayoutShape
from events.models import Section, Venue
from events.services import build_grid_layout, section_generate_grid, venue_generate_layout
from events.tests.factories import GeneralSectionFactory, SectionFactory, VenueFactory


# --- geometry -------------------------------------------------------------------------------------------------------
def test_straight_rows_stay_straight_and_a_curve_keeps_the_middle_seat_and_bends_the_ends_towards_the_stage():
    assert geometry.bend(10, 24, width=100, radius=0) == (10, 24)
    middle = geometry.bend(50, 0, width=100, radius=200)
    assert middle == pytest.approx((50, 0))
    left, right = geometry.bend(0, 0, width=100, radius=200), geometry.bend(100, 0, width=100, radius=200)
    assert left[1] < 0 and right[1] < 0 and left[1] == pytest.approx(right[1])
    # A seat keeps its distance along the front row: the arc from the middle is as long as it was straight.
    angle = math.atan2(right[0] - 50, right[1] + 200)
    assert angle * 200 == pytest.approx(50)
    # Rows behind bend on wider circles around the same centre.
    back = geometry.bend(100, 40, width=100, radius=200)
    assert math.dist(back, (50, -200)) == pytest.approx(240)


def test_placing_turns_a_section_around_the_middle_of_its_front_edge():
    south = geometry.Placement(x=0, y=500, rotation=0, width=200, height=100)
    assert geometry.place(100, 0, south) == pytest.approx((0, 500))
    assert geometry.place(100, 100, south) == pytest.approx((0, 600))  # its back row is further from the stage
    east = geometry.Placement(x=500, y=0, rotation=-90, width=200, height=100)
    assert geometry.place(100, 100, east) == pytest.approx((600, 0))
    north = geometry.Placement(x=0, y=-500, rotation=180, width=200, height=100)
    assert geometry.place(100, 100, north) == pytest.approx((0, -600))


def test_the_drawing_frames_stage_and_sections_and_a_curved_footprint_is_a_ring_segment():
    curved = geometry.Placement(x=0, y=200, shape=SectionMapShape.ARC, arc_radius=300, width=400, height=120)
    drawing = geometry.venue_drawing(
        stage=geometry.Stage(shape=StageShape.STAGE, x=0, y=0, width=500, height=150, label="Stage"),
        sections=[("Stalls", curved), ("Pit", geometry.Placement(x=0, y=100, width=300, height=60))],
    )
    min_x, min_y, width, height = drawing.view_box
    assert min_x <= -250 and min_y <= -75 and min_x + width >= 250 and min_y + height >= 320
    assert drawing.stage is not None and drawing.stage_shape == StageShape.STAGE
    stalls = drawing.sections[0]
    assert stalls.path.count("L") == 2 * (geometry.ARC_STEPS + 1) - 1  # two arcs joined into one outline
    assert stalls.label_x == pytest.approx(0, abs=0.1)
    assert curved.arc_degrees == pytest.approx(math.degrees(400 / 300))
    empty = geometry.venue_drawing(stage=None, sections=[])
    assert empty.sections == [] and empty.stage is None


def test_seat_extent_and_positions_put_row_a_in_front():
    points = [(x * 20, y * 24) for y in range(3) for x in range(5)]
    extent = geometry.seat_extent(points)
    assert (extent.width, extent.depth, extent.pitch, extent.row_pitch) == (80, 48, 20, 24)
    assert extent.footprint == (100, 72)
    straight = geometry.seat_positions(points, extent=extent, arc_radius=0)
    assert straight[2] == (40, 0)
    curved = geometry.seat_positions(points, extent=extent, arc_radius=100)
    assert curved[2] == pytest.approx((40, 0)) and curved[0][1] < 0
    assert geometry.seat_extent([]) is None


# --- generators -----------------------------------------------------------------------------------------------------
def _sections(venue: Venue) -> dict[str, Section]:
    return {section.name: section for section in Section.objects.using(DB_ALIAS).filter(venue=venue)}


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_theatre_generator_draws_a_stage_with_the_pit_stalls_and_circles_in_front_and_boxes_at_the_sides():
    venue = VenueFactory()
    for order, name in enumerate(["Stalls", "Dress Circle", "Upper Circle", "Box A", "Box B"]):
        SectionFactory(venue=venue, name=name, sort_order=order, rows=4, seats_per_row=10)
    GeneralSectionFactory(venue=venue, name="Pit", sort_order=9)

    info = venue_generate_layout(venue_id=venue.pk, shape=VenueLayoutShape.THEATRE)

    assert (info.placed, info.created) == (6, 0)
    venue.refresh_from_db()
    assert venue.stage_shape == StageShape.STAGE
    placed = _sections(venue)
    stage_front = venue.stage_y + venue.stage_height / 2
    assert stage_front < placed["Pit"].map_y < placed["Stalls"].map_y < placed["Dress Circle"].map_y
    assert placed["Dress Circle"].map_y < placed["Upper Circle"].map_y
    assert placed["Stalls"].map_shape == SectionMapShape.ARC and placed["Stalls"].map_arc_radius >= 50
    assert placed["Stalls"].map_width == 9 * 20 + 20  # from its seats: nine gaps of 20 and a seat's room
    # Boxes face across the house from opposite walls.
    assert {placed["Box A"].map_rotation, placed["Box B"].map_rotation} == {-90, 90}
    assert placed["Box A"].map_x * placed["Box B"].map_x < 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_stadium_generator_puts_stands_on_four_sides_of_the_pitch_and_the_field_on_it():
    venue = VenueFactory()
    for order, side in enumerate(["North", "East", "South", "West"]):
        for block in (1, 2):
            SectionFactory(venue=venue, name=f"{side} {block}", sort_order=order * 10 + block)
    GeneralSectionFactory(venue=venue, name="Field", sort_order=99)

    venue_generate_layout(venue_id=venue.pk, shape=VenueLayoutShape.STADIUM)

    venue.refresh_from_db()
    assert venue.stage_shape == StageShape.PITCH
    placed = _sections(venue)
    half_w, half_h = venue.stage_width / 2, venue.stage_height / 2
    assert placed["North 1"].map_y < -half_h and placed["North 1"].map_rotation == 180
    assert placed["South 2"].map_y > half_h and placed["South 2"].map_rotation == 0
    assert placed["East 1"].map_x > half_w and placed["West 1"].map_x < -half_w
    assert placed["North 1"].map_x != placed["North 2"].map_x  # blocks side by side
    field = placed["Field"]
    assert abs(field.map_x) < half_w and abs(field.map_y) < half_h and field.map_width > 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_arena_generator_rings_blocks_around_the_stage_with_rows_curved_around_its_centre():
    venue = VenueFactory()
    for n in range(6):
        SectionFactory(venue=venue, name=f"Block {n}", sort_order=n)

    venue_generate_layout(venue_id=venue.pk, shape=VenueLayoutShape.ARENA)

    blocks = list(Section.objects.using(DB_ALIAS).filter(venue=venue).order_by("sort_order"))
    assert len({block.map_rotation for block in blocks}) == 6
    for block in blocks:
        assert block.map_shape == SectionMapShape.ARC
        # The curve's centre is the middle of the arena.
        assert math.hypot(block.map_x, block.map_y) == pytest.approx(block.map_arc_radius, abs=1)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_generator_gives_an_empty_venue_its_usual_sections_with_seat_grids():
    venue = VenueFactory()
    info = venue_generate_layout(venue_id=venue.pk, shape=VenueLayoutShape.STADIUM, create_sections=True)
    placed = _sections(venue)
    assert info.created == len(placed) == 13
    assert placed["North 1"].capacity == 800 and len(placed["North 1"].layout["rows"]) == 20
    assert placed["Field (standing)"].kind == Section.Kind.GENERAL
    # A second run places what is there and creates nothing.
    assert venue_generate_layout(venue_id=venue.pk, shape=VenueLayoutShape.ARENA, create_sections=True).created == 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_an_unknown_shape_is_refused_and_a_new_grid_writes_the_footprint():
    section = SectionFactory()
    with pytest.raises(InvalidInput):
        venue_generate_layout(venue_id=section.venue_id, shape="CASTLE")
    section_generate_grid(section_id=section.pk, rows=5, seats_per_row=8)
    section.refresh_from_db()
    assert (section.map_width, section.map_height) == (7 * 20 + 20, 4 * 24 + 24)
    assert build_grid_layout(rows=1, seats_per_row=1)["rows"][0]["seats"][0]["x"] == 0


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize(
    "fields",
    [
        {"map_shape": SectionMapShape.ARC, "map_arc_radius": 0},  # a curve needs a radius
        {"map_shape": SectionMapShape.RECT, "map_arc_radius": 300},  # straight rows have none
        {"map_rotation": 720},
        {"map_x": 10**6},
    ],
)
def test_the_database_refuses_placements_out_of_range(fields):
    section = SectionFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using=DB_ALIAS):
        Section.objects.using(DB_ALIAS).filter(pk=section.pk).update(**fields)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_database_refuses_a_stage_of_no_size():
    venue = VenueFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using=DB_ALIAS):
        Venue.objects.using(DB_ALIAS).filter(pk=venue.pk).update(stage_width=0)


# --- admin ----------------------------------------------------------------------------------------------------------
@pytest.mark.django_db(databases=ALL_DATABASES)
def test_staff_generate_a_layout_from_the_venue_page_and_see_it_previewed(client, world):
    ours, theirs = world
    client.force_login(ours.staff["MANAGER"])
    change = reverse("admin:events_venue_change", args=[ours.venue.pk])
    page = client.get(change).content.decode()
    assert "Generate a layout" in page and 'class="venue-map-preview"' in page

    url = reverse("admin:events_venue_layout", args=[ours.venue.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"shape": VenueLayoutShape.THEATRE})
    assert response.status_code == 302 and response["Location"] == change
    ours.venue.refresh_from_db()
    assert ours.venue.stage_shape == StageShape.STAGE
    preview = client.get(change).content.decode()
    assert "<path" in preview and ours.section.name in preview

    assert client.post(url, {}).status_code == 200  # no shape chosen: the form again
    # Another organization's venue is not there for us.
    assert client.get(reverse("admin:events_venue_layout", args=[theirs.venue.pk])).status_code == 404


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_staff_edit_the_stage_and_place_a_section_by_hand(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    venue_change = reverse("admin:events_venue_change", args=[ours.venue.pk])
    response = client.post(
        venue_change,
        {
            "organization": str(ours.organization.pk),
            "name": ours.venue.name,
            "timezone": "UTC",
            "stage_shape": StageShape.THRUST,
            "stage_label": "Ring",
            "stage_x": "0",
            "stage_y": "0",
            "stage_width": "400",
            "stage_height": "400",
        },
    )
    assert response.status_code == 302
    ours.venue.refresh_from_db()
    assert (ours.venue.stage_shape, ours.venue.stage_label) == (StageShape.THRUST, "Ring")

    section_change = reverse("admin:events_section_change", args=[ours.section.pk])
    base = {"venue": str(ours.venue.pk), "name": ours.section.name, "sort_order": "1", "map_x": "0", "map_y": "300"}
    base |= {"map_rotation": "45", "map_width": "300", "map_height": "100"}
    refused = client.post(section_change, base | {"map_shape": SectionMapShape.ARC, "map_arc_radius": "0"})
    assert refused.status_code == 200 and "Curved rows need a radius" in refused.content.decode()
    saved = client.post(section_change, base | {"map_shape": SectionMapShape.ARC, "map_arc_radius": "400"})
    assert saved.status_code == 302
    ours.section.refresh_from_db()
    assert (ours.section.map_rotation, ours.section.map_arc_radius) == (45, 400)
    assert "venue-map-preview" in client.get(section_change).content.decode()
