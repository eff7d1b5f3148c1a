from django.urls import path

from accounts import account_views, views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/failed/", views.sign_in_failed_view, name="sign_in_failed"),
    path("sign-up/", views.CognitoAuthenticationRequestView.as_view(hosted_page="signup"), name="sign_up"),
    path(
        "forgot-password/",
        views.CognitoAuthenticationRequestView.as_view(hosted_page="forgotPassword"),
        name="forgot_password",
    ),
    path("disabled/", views.account_disabled, name="account_disabled"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("linked-providers/unlink/", account_views.unlink_provider, name="unlink_provider"),
]
