from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/edit/", views.me_edit, name="edit"),
    path("u/<str:handle>/", views.public_profile, name="public"),
    path("people/", views.people, name="people"),
]
