from django.urls import path

from profiles import api

app_name = "api"

urlpatterns = [
    path("user/me", api.user_me, name="user_me"),
    path("users/", api.users, name="users"),
    path("health", api.health, name="health"),
    path("schema", api.schema, name="schema"),
]
