from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/token/revoke/", views.TokenRevokeView.as_view(), name="auth-token-revoke"),
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify/", views.VerifyEmailView.as_view(), name="auth-verify"),
    path("auth/verify/resend/", views.VerifyResendView.as_view(), name="auth-verify-resend"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/step-up/", views.StepUpView.as_view(), name="me-step-up"),
    path("me/step-up/verify/", views.StepUpVerifyView.as_view(), name="me-step-up-verify"),
    path("wallet/", views.WalletView.as_view(), name="wallet"),
    path("wallet/ledger/", views.LedgerView.as_view(), name="wallet-ledger"),
    path("wallet/topups/", views.TopUpListCreateView.as_view(), name="wallet-topups"),
    path("wallet/card-refunds/", views.CardRefundView.as_view(), name="wallet-card-refunds"),
    path("payments/webhook/", views.PaymentWebhookView.as_view(), name="payments-webhook"),
    path("payments/stripe/webhook/", views.StripeWebhookView.as_view(), name="payments-stripe-webhook"),
]
