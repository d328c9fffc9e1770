import os, time
from wsgi import app as _app
_acc = [0.0, 0]
def app(environ, start_response):
    t = time.thread_time()
    try:
        r = _app(environ, start_response)
        return r
    finally:
        _acc[0] += time.thread_time() - t; _acc[1] += 1
        if _acc[1] % 20 == 0:
            with open(f"/tmp/wsgi_t.{os.getpid()}", "w") as f: f.write(f"{_acc[0]} {_acc[1]}")
