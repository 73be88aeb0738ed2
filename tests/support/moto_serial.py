"""moto's standalone S3 server, serving one request at a time.

moto's own `moto_server` runs werkzeug threaded, and its PutObject (moto 5.2.1,
moto/s3/responses.py) checks If-Match and If-None-Match and then stores the object with no
lock between the two: two simultaneous conditional puts of one key could both succeed
(Python's GIL makes it rare, not impossible). Real S3 makes the check and the write one step. Serving requests one at a time gives moto
that atomicity, so the tests measure driftgate's conditional writes, not moto's race.
Clients stay concurrent: requests queue in the listen backlog.

Run with the interpreter of the installed `moto_server` and its arguments (-H, -p, -c, -k).
"""
import sys

import moto.server

_run_simple = moto.server.run_simple


def _serial(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


moto.server.run_simple = _serial
moto.server.main(sys.argv[1:])
