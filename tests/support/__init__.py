"""Helpers shared by the test packages; no test module imports another test module or a conftest.

- `fixtures`: the app's shared fixtures (registered once by `pytest_plugins` in tests/conftest.py).
- `hosted_ui`: the app's sign-in driven over HTTP through the hosted UI (and alice's, in Playwright).
- `tokens`: real and forged tokens for the local pool.
- `users`: fresh pool users (the `new_user` fixture) and local members (`make_member`).
- `avatars`, `images`: S3 as someone, uploads, outbound-call counts; test pictures built in-process.
- `localcloud`: localcloud as a process (`Stack`), its hosted UI (`stack_sign_in`) and S3 principals.
- `waiting`: `wait_until`, instead of sleeping for a fixed time.
"""
