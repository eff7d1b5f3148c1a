#!/usr/bin/env bash
# The body of `make dev`, run by `devtools/services.sh exec dev` with .run/dev.env loaded:
# prepare the database, say where everything is, then serve the app in the foreground.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=.venv/bin/python
export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"

"$PYTHON" manage.py migrate --no-input
"$PYTHON" manage.py createcachetable

cat <<TEXT

  App            http://localhost:8000
  Local Cognito  ${COGNITO_DOMAIN:-http://127.0.0.1:9229}  (hosted sign-in pages)
  Outbox         ${COGNITO_DOMAIN:-http://127.0.0.1:9229}/_outbox  (emails and codes the stack "sent")
  Local S3       ${AWS_S3_ENDPOINT_URL:-http://127.0.0.1:9230}  (its own origin, as on AWS)

  Demo users     alice@example.com / Alice-pass-1
                 admin@example.com / Admin-pass-1   (group admin: Django staff)

  Ctrl-C stops the app and the services this command started.

TEXT

# services.sh (our parent) stops the services when the server exits.
exec "$PYTHON" manage.py runserver localhost:8000
