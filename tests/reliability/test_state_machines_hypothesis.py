"""Hypothesis state machines driving the real money and seat services on the test databases.

Each machine keeps a small model of what the services promise and checks, after every step, that the databases
agree with it:

* money (accounts.services credits_debit / credits_credit / credits_move / credit_adjust): random amounts including
  the edge values (one cent, the NUMERIC(10,2) maximum, zero, negative, NaN, infinity, three decimals, floats);
  invariants: balance == sum of the ledger == the model, never negative, the last ledger row's balance_after is
  the balance, a replayed (kind, reference) changes nothing, a reused reference with other terms is refused.
* seats (inventory.services seats_hold / seats_hold_best_available / seats_release / seats_sell / seats_unsell):
  three buyers, a fake clock that jumps across hold expiries; invariants: every seat has at most one holder and a
  SOLD seat exactly one owner and order, no hold is ever granted over another buyer's live hold, the availability
  figures count an expired hold as available and add up to the number of seats.

Every example runs inside the test's transaction (rolled back at the end) with fresh users, seats and references.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts import services as money
from accounts.models import LedgerEntry, User
from accounts.tests.factories import MembershipFactory, UserFactory
from core.errors import DomainError
from inventory import DB_ALIAS as SEATS
from inventory import selectors as seat_selectors
from inventory import services as seats
from inventory.models import Seat
from inventory.tests.factories import SeatFactory

pytestmark = [pytest.mark.integration]

MAX_MONEY = Decimal("99999999.99")
CENT = Decimal("0.01")
MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

amounts = st.one_of(
    st.sampled_from([CENT, Decimal("1.00"), Decimal("10.00"), MAX_MONEY, MAX_MONEY - CENT, Decimal("99.99")]),
    st.decimals(min_value=CENT, max_value=Decimal("1000.00"), places=2, allow_nan=False, allow_infinity=False),
)
bad_amounts = st.sampled_from(
    [
        Decimal("0"),
        Decimal("0.00"),
        Decimal("-0.01"),
        Decimal("-5"),
        Decimal("0.001"),
        Decimal("1.005"),
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        MAX_MONEY + CENT,
        Decimal("1E+20"),
        1.5,  # a float is never money
        True,
        None,
        "ten",
        "",
    ]
)


def _code(error: DomainError) -> str:
    return error.code


# --- Money ---------------------------------------------------------------------------------------------------------


class MoneyMachine(RuleBasedStateMachine):
    """Three accounts, credits and debits and moves between them, staff adjustments and replays."""

    movements = Bundle("movements")

    @initialize()
    def accounts(self):
        self.users = [UserFactory().pk for _ in range(3)]
        self.staff = MembershipFactory(role="BOX_OFFICE").user.pk
        self.balance = dict.fromkeys(self.users, Decimal("0.00"))

    def _reference(self) -> str:
        return f"hyp-{uuid.uuid4()}"

    def _expect_refusal(self, code: str, call) -> None:
        before = self._db_balances()
        with pytest.raises(DomainError) as refused:
            call()
        assert _code(refused.value) == code, (refused.value.code, refused.value.detail)
        assert self._db_balances() == before  # a refusal writes nothing

    def _db_balances(self) -> dict:
        return dict(User.objects.filter(pk__in=self.users).values_list("pk", "credit_balance"))

    @rule(target=movements, who=st.integers(0, 2), amount=amounts)
    def credit(self, who, amount):
        user, reference = self.users[who], self._reference()
        if self.balance[user] + amount > MAX_MONEY:
            self._expect_refusal(
                "INVALID_AMOUNT",
                lambda: money.credits_credit(user_id=user, amount=amount, kind="TOPUP", reference=reference),
            )
            return multiple()
        result = money.credits_credit(user_id=user, amount=amount, kind="TOPUP", reference=reference)
        self.balance[user] += amount
        assert result == self.balance[user]
        return ("credit", user, amount, reference)

    @rule(target=movements, who=st.integers(0, 2), amount=amounts)
    def debit(self, who, amount):
        user, reference = self.users[who], self._reference()
        if self.balance[user] < amount:
            self._expect_refusal(
                "INSUFFICIENT_CREDITS",
                lambda: money.credits_debit(user_id=user, amount=amount, kind="PURCHASE", reference=reference),
            )
            return multiple()
        result = money.credits_debit(user_id=user, amount=amount, kind="PURCHASE", reference=reference)
        self.balance[user] -= amount
        assert result == self.balance[user]
        return ("debit", user, amount, reference)

    @rule(
        target=movements,
        payer=st.integers(0, 2),
        payee=st.integers(0, 2),
        amount=amounts,
        fee_share=st.sampled_from([None, Decimal("0"), Decimal("0.1"), Decimal("1")]),
    )
    def move(self, payer, payee, amount, fee_share):
        payer, payee, reference = self.users[payer], self.users[payee], self._reference()
        fee = None if fee_share is None else (amount * fee_share).quantize(CENT)
        kwargs = {
            "payer_id": payer,
            "payee_id": payee,
            "amount": amount,
            "reference": reference,
            "debit_kind": "RESALE_DEBIT",
            "credit_kind": "RESALE_CREDIT",
        }
        if fee:
            kwargs.update(fee=fee, fee_kind="RESALE_FEE")
        if payer == payee:
            self._expect_refusal("VALIDATION_ERROR", lambda: money.credits_move(**kwargs))
            return multiple()
        net = amount - (fee or 0)
        if self.balance[payer] < amount:
            self._expect_refusal("INSUFFICIENT_CREDITS", lambda: money.credits_move(**kwargs))
            return multiple()
        if self.balance[payee] + amount > MAX_MONEY:
            # The payee's balance would pass the column's maximum before the fee comes off: refused whole.
            self._expect_refusal("INVALID_AMOUNT", lambda: money.credits_move(**kwargs))
            return multiple()
        money.credits_move(**kwargs)
        self.balance[payer] -= amount
        self.balance[payee] += net
        return ("move", kwargs)

    def _share(self, user, fraction: Decimal) -> Decimal:
        return max(CENT, (self.balance[user] * fraction).quantize(CENT))

    @precondition(lambda self: any(balance >= CENT for balance in self.balance.values()))
    @rule(
        target=movements,
        data=st.data(),
        fraction=st.sampled_from([Decimal("0.01"), Decimal("0.5"), Decimal("1")]),
        fee_share=st.sampled_from([None, Decimal("0.1"), Decimal("1")]),
    )
    def move_part_of_a_balance(self, data, fraction, fee_share):
        """Random amounts rarely fit a balance; this moves a share of what the payer has, often all of it."""
        payer_index = data.draw(st.sampled_from([i for i, u in enumerate(self.users) if self.balance[u] >= CENT]))
        payee_index = data.draw(st.sampled_from([i for i in range(3) if i != payer_index]))
        amount = self._share(self.users[payer_index], fraction)
        return self.move(payer=payer_index, payee=payee_index, amount=amount, fee_share=fee_share)

    @precondition(lambda self: any(balance >= CENT for balance in self.balance.values()))
    @rule(target=movements, data=st.data(), fraction=st.sampled_from([Decimal("0.3"), Decimal("1")]))
    def debit_part_of_a_balance(self, data, fraction):
        who = data.draw(st.sampled_from([i for i, u in enumerate(self.users) if self.balance[u] >= CENT]))
        return self.debit(who=who, amount=self._share(self.users[who], fraction))

    @rule(who=st.integers(0, 2), amount=amounts, negative=st.booleans())
    def adjust(self, who, amount, negative):
        user = self.users[who]
        signed = -amount if negative else amount
        call = lambda: money.credit_adjust(actor_id=self.staff, user_id=user, amount=signed, reason="Hypothesis")  # noqa: E731
        if self.balance[user] + signed < 0:
            self._expect_refusal("INSUFFICIENT_CREDITS", call)
        elif self.balance[user] + signed > MAX_MONEY:
            self._expect_refusal("INVALID_AMOUNT", call)
        else:
            assert call() == self.balance[user] + signed
            self.balance[user] += signed

    @rule(who=st.integers(0, 2), amount=amounts)
    def adjust_by_a_non_staff_member_is_refused(self, who, amount):
        user = self.users[who]
        self._expect_refusal(
            "STAFF_ONLY",
            lambda: money.credit_adjust(actor_id=self.users[(who + 1) % 3], user_id=user, amount=amount, reason="x"),
        )

    @rule(movement=movements)
    def replay_changes_nothing(self, movement):
        before = self._db_balances()
        rows = LedgerEntry.objects.count()
        if movement[0] == "credit":
            _, user, amount, reference = movement
            assert money.credits_credit(user_id=user, amount=amount, kind="TOPUP", reference=reference) == before[user]
        elif movement[0] == "debit":
            _, user, amount, reference = movement
            assert (
                money.credits_debit(user_id=user, amount=amount, kind="PURCHASE", reference=reference) == before[user]
            )
        else:
            money.credits_move(**movement[1])
        assert self._db_balances() == before
        assert LedgerEntry.objects.count() == rows

    @rule(movement=consumes(movements), other=st.integers(0, 2))
    def reusing_a_reference_for_other_terms_is_refused(self, movement, other):
        if movement[0] == "move":
            amount = movement[1]["amount"]
            kwargs = {**movement[1], "amount": amount + CENT if amount < MAX_MONEY else amount - CENT}
            kwargs.pop("fee", None)
            kwargs.pop("fee_kind", None)
            self._expect_refusal("LEDGER_REFERENCE_CONFLICT", lambda: money.credits_move(**kwargs))
            return
        kind = "TOPUP" if movement[0] == "credit" else "PURCHASE"
        service = money.credits_credit if movement[0] == "credit" else money.credits_debit
        _, user, amount, reference = movement
        other_user = self.users[other]
        other_amount = amount if other_user != user else (amount + CENT if amount < MAX_MONEY else amount - CENT)
        self._expect_refusal(
            "LEDGER_REFERENCE_CONFLICT",
            lambda: service(user_id=other_user, amount=other_amount, kind=kind, reference=reference),
        )

    @rule(who=st.integers(0, 2), amount=bad_amounts, operation=st.sampled_from(["credit", "debit", "adjust"]))
    def a_bad_amount_is_refused(self, who, amount, operation):
        user = self.users[who]
        if operation == "adjust" and isinstance(amount, Decimal) and amount.is_finite() and amount < 0:
            return  # negative adjustments are legal; covered by adjust()
        calls = {
            "credit": lambda: money.credits_credit(user_id=user, amount=amount, kind="TOPUP", reference="bad"),
            "debit": lambda: money.credits_debit(user_id=user, amount=amount, kind="PURCHASE", reference="bad"),
            "adjust": lambda: money.credit_adjust(actor_id=self.staff, user_id=user, amount=amount, reason="x"),
        }
        self._expect_refusal("INVALID_AMOUNT", calls[operation])

    @invariant()
    def balances_equal_the_ledger_and_the_model(self):
        if not hasattr(self, "users"):
            return
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT u.id, u.credit_balance, COALESCE(SUM(l.amount), 0) FROM accounts_user u "
                "LEFT JOIN accounts_ledgerentry l ON l.user_id = u.id WHERE u.id = ANY(%s) GROUP BY u.id",
                [self.users],
            )
            rows = cursor.fetchall()
        for user_id, balance, ledger_sum in rows:
            assert balance == ledger_sum == self.balance[user_id], (user_id, balance, ledger_sum)
            assert balance >= 0
            last = LedgerEntry.objects.filter(user_id=user_id).order_by("-created_at", "-id").first()
            if last is not None:
                assert last.balance_after == balance


@pytest.mark.django_db(databases=["default"])
def test_money_state_machine_keeps_balance_equal_to_ledger_never_negative_and_replays_idempotent():
    run_state_machine_as_test(MoneyMachine, settings=MACHINE_SETTINGS)


# --- Seats ---------------------------------------------------------------------------------------------------------

HOLD_SECONDS = 60
MAX_PER_BUYER = 3
SEAT_COUNT = 6


class Clock:
    """A fake clock for the services: starts now, moves only when the machine says so."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


class SeatMachine(RuleBasedStateMachine):
    """Three buyers holding, releasing, buying and refunding six seats while the clock jumps over hold expiries."""

    def __init__(self):
        super().__init__()
        self.clock = Clock()
        self._patch = mock.patch("django.utils.timezone.now", self.clock)
        self._patch.start()
        self.event_id, self.section_id = uuid.uuid4(), uuid.uuid4()
        self.seat_ids = [
            SeatFactory(event_id=self.event_id, section_id=self.section_id, row_label="A", number=n + 1, x=n * 20).pk
            for n in range(SEAT_COUNT)
        ]
        self.buyers = [uuid.uuid4() for _ in range(3)]
        # The model: seat -> dict(status, holder, expires, owner, order, qr_version)
        self.model = {
            pk: {"status": "AVAILABLE", "holder": None, "expires": None, "owner": None, "order": None, "qr": 1}
            for pk in self.seat_ids
        }
        self.orders: dict[uuid.UUID, tuple[uuid.UUID, list]] = {}  # order -> (buyer, seats)

    def teardown(self):
        self._patch.stop()

    # -- the model's reading of the rules --

    def _live_hold(self, seat: dict) -> bool:
        return seat["status"] == "HELD" and seat["expires"] > self.clock.now

    def _free_for(self, seat: dict, buyer) -> bool:
        return seat["status"] == "AVAILABLE" or (
            seat["status"] == "HELD" and (seat["expires"] <= self.clock.now or seat["holder"] == buyer)
        )

    def _live_holds_of(self, buyer, exclude=()) -> int:
        return sum(
            1
            for pk, seat in self.model.items()
            if pk not in exclude and self._live_hold(seat) and seat["holder"] == buyer
        )

    def _take(self, pks, buyer) -> None:
        for pk in pks:
            self.model[pk].update(
                status="HELD", holder=buyer, expires=self.clock.now + dt.timedelta(seconds=HOLD_SECONDS)
            )

    def _refused(self, code: str, call) -> None:
        before = self._rows()
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == code, (refused.value.code, refused.value.detail)
        assert self._rows() == before

    # -- rules --

    @rule(buyer=st.integers(0, 2), picks=st.sets(st.integers(0, SEAT_COUNT - 1), min_size=1, max_size=4))
    def hold(self, buyer, picks):
        buyer = self.buyers[buyer]
        pks = [self.seat_ids[i] for i in sorted(picks)]
        call = lambda: seats.seats_hold(  # noqa: E731
            event_id=self.event_id,
            buyer_id=buyer,
            seat_ids=pks,
            hold_seconds=HOLD_SECONDS,
            max_per_buyer=MAX_PER_BUYER,
        )
        if len(pks) > MAX_PER_BUYER:
            return self._refused("HOLD_LIMIT_EXCEEDED", call)
        if not all(self._free_for(self.model[pk], buyer) for pk in pks):
            return self._refused("SEAT_UNAVAILABLE", call)
        if self._live_holds_of(buyer, exclude=pks) + len(pks) > MAX_PER_BUYER:
            return self._refused("HOLD_LIMIT_EXCEEDED", call)
        held = call()
        assert sorted(seat.id for seat in held) == sorted(pks)
        self._take(pks, buyer)

    @rule(buyer=st.integers(0, 2), quantity=st.integers(1, 4))
    def hold_best_available(self, buyer, quantity):
        buyer = self.buyers[buyer]
        call = lambda: seats.seats_hold_best_available(  # noqa: E731
            event_id=self.event_id,
            buyer_id=buyer,
            quantity=quantity,
            section_id=self.section_id,
            hold_seconds=HOLD_SECONDS,
            max_per_buyer=MAX_PER_BUYER,
        )
        free = [
            pk
            for pk, seat in self.model.items()
            if seat["status"] == "AVAILABLE" or (seat["status"] == "HELD" and seat["expires"] <= self.clock.now)
        ]
        if quantity > MAX_PER_BUYER or self._live_holds_of(buyer) + quantity > MAX_PER_BUYER:
            return self._refused("HOLD_LIMIT_EXCEEDED", call)
        if len(free) < quantity:
            return self._refused("NOT_ENOUGH_SEATS", call)
        held = [seat.id for seat in call()]
        assert len(held) == len(set(held)) == quantity
        assert set(held) <= set(free), "best-available took a seat that was not free"
        self._take(held, buyer)

    @rule(buyer=st.integers(0, 2), some=st.none() | st.sets(st.integers(0, SEAT_COUNT - 1), max_size=3))
    def release(self, buyer, some):
        buyer = self.buyers[buyer]
        pks = None if some is None else [self.seat_ids[i] for i in some]
        mine = [
            pk
            for pk, seat in self.model.items()
            if self._live_hold(seat) and seat["holder"] == buyer and (pks is None or pk in pks)
        ]
        released = seats.seats_release(buyer_id=buyer, event_id=self.event_id, seat_ids=pks)
        assert released == len(mine)
        for pk in mine:
            self.model[pk].update(status="AVAILABLE", holder=None, expires=None)

    @rule(buyer=st.integers(0, 2), picks=st.sets(st.integers(0, SEAT_COUNT - 1), min_size=1, max_size=3))
    def sell(self, buyer, picks):
        buyer = self.buyers[buyer]
        pks = [self.seat_ids[i] for i in sorted(picks)]
        order = uuid.uuid4()
        call = lambda: seats.seats_sell(buyer_id=buyer, order_id=order, seat_ids=pks)  # noqa: E731
        if not all(self._live_hold(self.model[pk]) and self.model[pk]["holder"] == buyer for pk in pks):
            return self._refused("HOLD_EXPIRED", call)
        sold = call()
        assert sorted(seat.id for seat in sold) == sorted(pks)
        for pk in pks:
            self.model[pk].update(status="SOLD", holder=None, expires=None, owner=buyer, order=order)
        self.orders[order] = (buyer, pks)
        # A retry of the same sale (same order) answers the same seats and changes nothing.
        before = self._rows()
        assert sorted(seat.id for seat in seats.seats_sell(buyer_id=buyer, order_id=order, seat_ids=pks)) == sorted(pks)
        assert self._rows() == before

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), block=st.booleans())
    def unsell(self, data, block):
        order = data.draw(st.sampled_from(sorted(self.orders)))
        _buyer, pks = self.orders[order]
        expected = sum(1 for pk in pks if self.model[pk]["order"] == order and self.model[pk]["status"] == "SOLD")
        assert seats.seats_unsell(order_id=order, block=block) == expected
        for pk in pks:
            if self.model[pk]["order"] == order:
                self.model[pk].update(
                    status="BLOCKED" if block else "AVAILABLE", owner=None, order=None, qr=self.model[pk]["qr"] + 1
                )
        assert seats.seats_unsell(order_id=order, block=block) == 0  # idempotent

    @rule(seconds=st.sampled_from([1, HOLD_SECONDS - 1, HOLD_SECONDS, HOLD_SECONDS + 1, 10 * HOLD_SECONDS]))
    def time_passes(self, seconds):
        self.clock.now += dt.timedelta(seconds=seconds)

    # -- invariants --

    def _rows(self) -> dict:
        return {
            row["id"]: row
            for row in Seat.objects.using(SEATS)
            .filter(pk__in=self.seat_ids)
            .values("id", "status", "held_by_id", "hold_expires_at", "owner_id", "order_id", "qr_version")
        }

    @invariant()
    def the_database_agrees_with_the_model(self):
        for pk, row in self._rows().items():
            seat = self.model[pk]
            assert row["status"] == seat["status"], (pk, row, seat)
            if seat["status"] == "HELD":
                assert (row["held_by_id"], row["hold_expires_at"]) == (seat["holder"], seat["expires"])
            else:
                assert row["held_by_id"] is None and row["hold_expires_at"] is None, row
            if seat["status"] == "SOLD":
                assert (row["owner_id"], row["order_id"]) == (seat["owner"], seat["order"])
            else:
                assert row["owner_id"] is None and row["order_id"] is None, row
            assert row["qr_version"] == seat["qr"]

    @invariant()
    def a_seat_is_sold_to_at_most_one_order_and_each_order_to_one_buyer(self):
        owners: dict = {}
        for row in self._rows().values():
            if row["status"] == "SOLD":
                owners.setdefault(row["order_id"], set()).add(row["owner_id"])
        assert all(len(buyers) == 1 for buyers in owners.values()), owners

    @invariant()
    def availability_counts_add_up_and_expired_holds_are_available(self):
        figures = seat_selectors.section_availability(event_id=self.event_id).get(self.section_id, {})
        assert sum(figures.values()) == SEAT_COUNT
        expected: dict[str, int] = {}
        for seat in self.model.values():
            status = "AVAILABLE" if seat["status"] == "HELD" and not self._live_hold(seat) else seat["status"]
            expected[status] = expected.get(status, 0) + 1
        assert figures == expected


@pytest.mark.django_db(databases=["seats"])
def test_seat_state_machine_never_double_holds_or_double_sells_and_counts_add_up():
    run_state_machine_as_test(SeatMachine, settings=MACHINE_SETTINGS)
