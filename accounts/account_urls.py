from django.urls import path

from accounts import account_views as views
from accounts.reauthentication import ReauthenticateView

app_name = "account"

urlpatterns = [
    path("", views.account, name="index"),
    path("mfa/start/", views.totp_start, name="totp_start"),
    path("mfa/verify/", views.totp_verify, name="totp_verify"),
    path("mfa/switch-on/", views.totp_switch_on, name="totp_switch_on"),
    path("mfa/remove/", views.totp_remove, name="totp_remove"),
    path("password/", views.password_change, name="password"),
    path("sessions/end/", views.session_end, name="session_end"),
    path("sessions/end-all/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("email/", views.email_change, name="email"),
    path("email/verify/", views.email_verify, name="email_verify"),
    path("email/resend/", views.email_resend, name="email_resend"),
    path("email/cancel/", views.email_cancel, name="email_cancel"),
    path("delete/", views.delete_account, name="delete"),
    path("my-data.json", views.export, name="export"),
    # Sign in again (re-authentication), back to the action asked for: accounts/reauthentication.py.
    path("reauthenticate/", ReauthenticateView.as_view(), name="reauthenticate"),
]
