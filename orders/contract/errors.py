"""The errors of orders, each a ``core.errors.DomainError`` with a stable ``code`` and HTTP ``status``: purchase
and refunds, transfers and resale, whole events and the gate, the box office, the waiting room and the waiting list.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from core.errors import Conflict, DomainError

# --- Errors: purchase and refunds --------------------------------------------------------------------------------


class StepUpRequired(DomainError):
    code = "STEP_UP_REQUIRED"
    status = 428
    default_detail = gettext_lazy("Confirm this purchase with the one-time code we email you, then pay again.")


class EmailNotVerified(DomainError):
    code = "EMAIL_NOT_VERIFIED"
    status = 403
    default_detail = gettext_lazy("Verify your email address before buying tickets.")


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    status = 409
    default_detail = gettext_lazy(
        "A request with this idempotency key is being processed right now; retry in a moment."
    )


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    default_detail = gettext_lazy("This idempotency key was already used for a different purchase.")


class NoHolds(Conflict):
    code = "NO_ACTIVE_HOLDS"
    status = 409
    default_detail = gettext_lazy(
        "You hold no seats for this event (holds expire after a few minutes); pick seats again."
    )


class OrderInProgress(Conflict):
    code = "ORDER_IN_PROGRESS"
    status = 409
    default_detail = gettext_lazy(
        "Another checkout of these seats is still in progress; wait a moment and look at your orders."
    )


class OrderFailed(Conflict):
    code = "ORDER_FAILED"
    status = 409
    default_detail = gettext_lazy("This purchase failed and was undone; nothing was charged. Start a new checkout.")


class OrderNotRefundable(Conflict):
    code = "ORDER_NOT_REFUNDABLE"
    status = 409
    default_detail = gettext_lazy("Only a confirmed order can be refunded.")


class RefundNotAllowed(DomainError):
    code = "REFUND_NOT_ALLOWED"
    status = 403
    default_detail = gettext_lazy(
        "Only box-office staff, managers and owners of the event's organization can refund it."
    )


# --- Errors: transfers and resale --------------------------------------------------------------------------------


class TransferActive(DomainError):
    code = "TRANSFER_ACTIVE"
    status = 409
    default_detail = gettext_lazy("This ticket already has an open transfer offer.")


class SelfTransfer(DomainError):
    code = "SELF_TRANSFER"
    status = 400
    default_detail = gettext_lazy("You cannot transfer a ticket to yourself.")


class UserFlagged(DomainError):
    code = "USER_FLAGGED"
    status = 403
    default_detail = gettext_lazy(
        "This account is flagged and cannot transfer or receive tickets until staff clear it."
    )


class RecipientNotVerified(DomainError):
    code = "RECIPIENT_NOT_VERIFIED"
    status = 400
    default_detail = gettext_lazy("The recipient has not verified their email address yet.")


class RecipientNotFound(DomainError):
    code = "RECIPIENT_NOT_FOUND"
    status = 400
    default_detail = gettext_lazy("No account uses that email address.")


class TicketNotTransferable(DomainError):
    code = "TICKET_NOT_TRANSFERABLE"
    status = 409
    default_detail = gettext_lazy(
        "This ticket cannot be transferred right now (checked in, listed for resale or being refunded)."
    )


class TicketChangingHands(DomainError):
    code = "TICKET_CHANGING_HANDS"
    status = 409
    default_detail = gettext_lazy(
        "A ticket of this order is being resold or transferred right now; try the refund again once that is done."
    )


class TransferStateInvalid(DomainError):
    code = "TRANSFER_INVALID_STATE"
    status = 409
    default_detail = gettext_lazy("The transfer is not in a state that allows this.")


class TransferExpired(DomainError):
    code = "TRANSFER_EXPIRED"
    status = 409
    default_detail = gettext_lazy("The transfer offer has expired.")


class TransferActionForbidden(DomainError):
    code = "TRANSFER_ACTION_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("Only the other party of this transfer can do that.")


class TransferBusy(DomainError):
    code = "TRANSFER_BUSY"
    status = 409
    default_detail = gettext_lazy("The transfer is being completed right now; try again in a moment.")


class InvalidPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = gettext_lazy("The price must be an amount of credits of at least 0 with at most two decimals.")


class InvalidListingPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = gettext_lazy("The asking price must be more than 0 credits, with at most two decimals.")


class PriceAboveCap(DomainError):
    code = "PRICE_ABOVE_CAP"
    status = 400
    default_detail = gettext_lazy("The asking price is above the resale cap for this ticket.")


class ListingActive(DomainError):
    code = "LISTING_ACTIVE"
    status = 409
    default_detail = gettext_lazy("This ticket is already listed for resale.")


class ListingUnavailable(DomainError):
    code = "LISTING_UNAVAILABLE"
    status = 409
    default_detail = gettext_lazy("This listing is no longer for sale.")


class OwnListing(DomainError):
    code = "OWN_LISTING"
    status = 400
    default_detail = gettext_lazy("You cannot buy your own listing.")


class ListingBusy(DomainError):
    code = "LISTING_BUSY"
    status = 409
    default_detail = gettext_lazy("This listing is being sold right now; try again in a moment.")


# --- Errors: whole events and the gate ---------------------------------------------------------------------------


class BuyerBlocked(DomainError):
    code = "BUYER_BLOCKED"
    status = 403
    default_detail = gettext_lazy(
        "The organizer of this event does not sell to this account. Contact them if this is a mistake."
    )


class EventBusy(Conflict):
    code = "EVENT_BUSY"
    default_detail = gettext_lazy("This event is being published or cancelled right now; try again in a moment.")


class ScanForbidden(DomainError):
    code = "SCAN_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("You are not gate staff of this event's organization.")


class CardPaymentFailed(DomainError):
    code = "CARD_PAYMENT_FAILED"
    status = 402
    default_detail = gettext_lazy(
        "The card payment did not go through, so the order was not placed. Your holds were released."
    )


class ExportNotAllowed(DomainError):
    code = "EXPORT_NOT_ALLOWED"
    status = 403
    default_detail = gettext_lazy("Only staff of the event's organization with access to this data can export it.")


# --- Errors: the waiting room and the box office ------------------------------------------------------------------


class WaitingRoomPassRequired(DomainError):
    code = "WAITING_ROOM_PASS_REQUIRED"
    status = 403
    default_detail = gettext_lazy(
        "This on-sale admits buyers from its waiting room: join the room, and you can hold seats once it is your turn."
    )


class WaitingRoomClosed(DomainError):
    code = "WAITING_ROOM_CLOSED"
    status = 409
    default_detail = gettext_lazy("This event has no open waiting room.")


class WaitingRoomNotOpen(DomainError):
    code = "WAITING_ROOM_NOT_OPEN"
    status = 409
    default_detail = gettext_lazy("The waiting room for this event is not open yet.")


class WaitingRoomAddressLimit(DomainError):
    code = "WAITING_ROOM_ADDRESS_LIMIT"
    status = 429
    default_detail = gettext_lazy("Too many places in this waiting room were taken from your network address.")


class BoxOfficeForbidden(DomainError):
    code = "BOX_OFFICE_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("You are not box-office staff of this event's organization.")


# --- Errors: the waiting list -------------------------------------------------------------------------------------


class WaitingListNotSoldOut(DomainError):
    code = "WAITING_LIST_NOT_SOLD_OUT"
    status = 409
    default_detail = gettext_lazy("Places are still on sale here: hold them instead of joining the waiting list.")


class WaitingListAlreadyJoined(DomainError):
    code = "WAITING_LIST_ALREADY_JOINED"
    status = 409
    default_detail = gettext_lazy("You are already on this waiting list.")


class WaitingListEntryClosed(DomainError):
    code = "WAITING_LIST_ENTRY_CLOSED"
    status = 409
    default_detail = gettext_lazy("This waiting-list entry is no longer live.")
