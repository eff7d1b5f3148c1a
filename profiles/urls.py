from django.urls import path

from profiles import views

app_name = "profiles"

urlpatterns = [
    path("me/", views.me, name="me"),
    path("me/edit/", views.me_edit, name="edit"),
    path("me/avatar/", views.avatar, name="avatar"),
    path("me/avatar/remove/", views.avatar_remove, name="avatar_remove"),
    path("me/avatar/upload/", views.avatar_upload_start, name="avatar_upload_start"),
    path("me/avatar/upload/done/", views.avatar_upload_finish, name="avatar_upload_finish"),
    path("u/<str:handle>/", views.public_profile, name="public"),
    path("u/<str:handle>/moderate/<str:action>/", views.moderate, name="moderate"),
    path("moderation/", views.moderation_page, name="moderation"),
    path("people/", views.people, name="people"),
]
