#!/bin/sh
# Writes the appservice registration once, into the volume that Synapse and the bridge share
# (docker-compose.yml, service "bridge-init"). Later runs keep the existing file, so its tokens stay
# the ones Synapse has loaded. To make new tokens, delete the file and restart Synapse and the bridge.
#
# Usage: register-once.sh <config.yaml> <registration.yaml> <bridge URL as Synapse reaches it>
set -eu
if [ "$#" -ne 3 ]; then
  echo "usage: register-once.sh <config.yaml> <registration.yaml> <bridge url>" >&2
  exit 2
fi
config="$1"
registration="$2"
url="$3"
if [ -s "$registration" ]; then
  echo "Keeping the existing registration $registration."
  exit 0
fi
node /app/dist/src/main.js -r -c "$config" -f "$registration" -u "$url"
# The bridge writes it readable by its own user only; Synapse's image runs as group 991.
chgrp 991 "$registration"
chmod 0640 "$registration"
