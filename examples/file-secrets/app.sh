#!/bin/sh
# The demo app: prints which variables it received from latchkey, with each value masked by
# the app itself (first two characters, then its length) so the demo never shows a secret.
echo "demo app: running as uid $(id -u), pid $$"
for name in DB_PASSWORD API_KEY DB_USER DB_HOST DB_PORT GREETING LATCHKEY_LOG_LEVEL; do
  eval "value=\${$name-}"
  eval "set=\${$name+yes}"
  if [ -z "$set" ]; then
    echo "  $name: (not set)"
  else
    head=$(printf '%s' "$value" | cut -c1-2)
    echo "  $name: ${head}****** (${#value} characters)"
  fi
done
