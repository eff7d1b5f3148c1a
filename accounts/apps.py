from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.sessions import session_index_on_login

        user_logged_in.connect(session_index_on_login, dispatch_uid="accounts.session_index")
