"""CherryPy 18 with the endpoints of examples/bench_server.rs, for bench/run.sh.

Usage: compat/.venv/bin/python bench/cherrypy_app.py CONFIG PORT THREADS

Written the plain CherryPy way, so what is measured is CherryPy's own session tool. One
process (the GIL lets one thread run Python at a time: one core, like the single actix-web
worker it is compared with) with a pool of THREADS threads, so that every connection of the
load generator can have a request in the server at once, as with actix-web.
"""

import sys
import time

import cherrypy

USER = 'alice@example.com'


class Bench:
    @cherrypy.expose
    def login(self):
        cherrypy.session['user'] = USER
        return 'ok'

    @cherrypy.expose
    def read(self):
        user = cherrypy.session.get('user')
        if user is None:
            raise cherrypy.HTTPError(401)
        return user

    @cherrypy.expose
    def write(self):
        n = cherrypy.session.get('n', 0) + 1
        cherrypy.session['n'] = n
        return str(n)

    @cherrypy.expose
    def slow(self):
        user = cherrypy.session.get('user')
        time.sleep(0.005)
        return repr(user)


def main():
    config, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cherrypy.config.update(config)
    cherrypy.config.update({
        'server.socket_host': '127.0.0.1',
        'server.socket_port': port,
        'log.screen': False,
        'log.access_file': '',
        'log.error_file': '',
        'engine.autoreload.on': False,
        'environment': 'production',
        'server.thread_pool': threads,
    })
    cherrypy.tree.mount(Bench(), '', config)
    cherrypy.engine.signals.subscribe()
    cherrypy.engine.start()
    cherrypy.engine.block()


if __name__ == '__main__':
    main()
