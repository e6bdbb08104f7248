#!/bin/sh
# Writes the greeting page, then serves /www on $PORT in the foreground until SIGTERM.
set -e
cat > /www/index.html <<HTML
<!doctype html>
<title>Pharos hello</title>
<h1>${GREETING} from ${NODE}</h1>
<p>Deployed by Pharos. Container started at $(date -u +%Y-%m-%dT%H:%M:%SZ).</p>
HTML
echo "${GREETING} from ${NODE}" > /www/hello.txt
echo "hello-web: serving on port ${PORT}"
exec httpd -f -v -p "${PORT}" -h /www
