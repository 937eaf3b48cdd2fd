"""Writes of users_db: the operations other apps (and accounts' own pages, API and admin) call.

Services are keyword-only, take ids as uuid.UUID and answer with the dataclasses of accounts.contract; refusals are
the errors there. Reads are accounts.selectors. By topic:

- money: credits and the ledger (debit, credit, move between two people), amounts;
- staff: flags and credit adjustments by platform staff, audited;
- codes: one-time codes sent by email;
- registration: sign-up, email verification, profile, password reset;
- login: email and password behind the brute-force throttle (django-axes) shared by every login;
- topups: buying credits through the payment provider;
- login: email and password behind a brute-force throttle;
- topups: buying credits through the payment provider; stripe_events: Stripe's webhook events applied;
- refunds: unused credits back to the cards they came from;
- pruning: used one-time codes and old failed logins, deleted by the job queue.
"""

from accounts.services.codes import otp_issue, otp_resend, otp_verify
from accounts.services.login import client_ip, login_failures_forgive, user_authenticate
from accounts.services.money import credits_credit, credits_debit, credits_move, parse_amount
from accounts.services.pruning import login_attempts_prune, one_time_codes_prune
from accounts.services.refunds import card_refund_request, card_refundable_amount
from accounts.services.registration import (
    password_reset_confirm,
    password_reset_request,
    user_for_tickets,
    user_register,
    user_resend_verification,
    user_set_language,
    user_update_profile,
    user_verify_email,
    user_walk_in,
)
from accounts.services.staff import credit_adjust, user_set_flag
from accounts.services.stripe_events import stripe_event_apply
from accounts.services.tokens import api_token_issue, api_token_revoke
from accounts.services.topups import topup_complete, topup_start

__all__ = [
    "api_token_issue",
    "api_token_revoke",
    "card_refund_request",
    "card_refundable_amount",
    "stripe_event_apply",
    "client_ip",
    "credit_adjust",
    "credits_credit",
    "credits_debit",
    "credits_move",
    "login_attempts_prune",
    "login_failures_forgive",
    "one_time_codes_prune",
    "otp_issue",
    "otp_resend",
    "otp_verify",
    "parse_amount",
    "password_reset_confirm",
    "password_reset_request",
    "topup_complete",
    "topup_start",
    "user_authenticate",
    "user_for_tickets",
    "user_walk_in",
    "user_register",
    "user_resend_verification",
    "user_set_language",
    "user_set_flag",
    "user_update_profile",
    "user_verify_email",
]
