from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = gettext_lazy("Accounts")

    def ready(self) -> None:
        from accounts import checks, payments, selectors  # noqa: F401 - checks registers the payment deploy checks
        from accounts.stripe_payments import StripeProvider
        from core import directory

        payments.register_provider(StripeProvider())
        # Other domains' staff pages name people (buyers, holders, staff) through core.directory.
        directory.provide(directory.USER, lambda ids: selectors.user_labels(user_ids=ids or ()))
