from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from profiles import views as profile_views

urlpatterns = [
    path("", profile_views.home, name="home"),
    # mozilla-django-oidc's URL names, served by our Cognito-aware subclasses.
    path(
        "oidc/authenticate/",
        account_views.CognitoAuthenticationRequestView.as_view(),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        account_views.CognitoAuthenticationCallbackView.as_view(),
        name="oidc_authentication_callback",
    ),
    path("accounts/", include("accounts.urls")),
    path("account/", include("accounts.account_urls")),
    path("api/", include("profiles.api_urls")),
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
    path("", include("profiles.urls")),
]

# Benchmark-only endpoints (bench/urls.py), when BENCH_URLS is on: never in production.
if settings.BENCH_URLS:
    urlpatterns.insert(0, path("bench/", include("bench.urls")))

# RFC 9457 problems under /api/, the site's pages elsewhere; a database outage is "try again
# shortly" (503), not a crash: project/errors.py.
handler400 = "project.errors.bad_request"
handler403 = "project.errors.permission_denied"
handler404 = "project.errors.page_not_found"
handler500 = "project.errors.server_error"
