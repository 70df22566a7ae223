"""moto's S3 / Secrets Manager / Kinesis server, served with HTTP keep-alive.

`moto_server` runs moto's WSGI app on werkzeug's development server, which closes the
connection after every response; the AWS SDK then opens a new TCP connection (and werkzeug a
new thread) for every request, which real S3 never makes it do. waitress serves the same app,
in one process (so every request sees the same in-memory state), with keep-alive: about 1 ms
less of moto's CPU per archive put, on the same two cores the benchmark measures.

moto also lists its own package folder (a listdir and a stat per service, under a global lock)
on every request to find which service a host name means; that was over half of its time per
S3 put (py-spy). The list cannot change while the server runs, so it is read once here.

    python moto-server.py PORT
"""
import sys

import moto.backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve

MODULES = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: MODULES

if __name__ == "__main__":
    port = int(sys.argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)
