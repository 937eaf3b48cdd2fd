from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("verify/", views.verify, name="verify"),
    path("verify/resend/", views.verify_resend, name="verify_resend"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("profile/", views.profile, name="profile"),
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/topup/", views.topup, name="topup"),
    path("wallet/topups/<str:topup_id>/", views.topup_status, name="topup-status"),
    path("wallet/card-refund/", views.card_refund, name="card-refund"),
    path("pay/<str:provider_reference>/", views.test_pay, name="test-pay"),
    path("step-up/", views.step_up, name="step_up"),
]
