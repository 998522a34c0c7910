"""The reference probe server: real CherryPy 18 sessions behind tiny handlers.

Usage: compat/.venv/bin/python compat/http/probe_app.py CONFIG PORT

`examples/probe_server.rs CONFIG PORT` serves the same endpoints from actix-web; the
conformance test drives both with `transcript.py` and compares what clients see.
So every handler here is written the plain CherryPy way (no cleverness around the
session tool): whatever CherryPy does with it *is* the expected behaviour.
"""

import sys
import time

import cherrypy
from cherrypy.lib import sessions


class Probe:
    """Mounted at / and again at /admin/, so per-path config sections apply."""

    @cherrypy.expose
    def set(self, key, value):
        cherrypy.session[key] = value
        return value

    @cherrypy.expose
    def get(self, key, ms='0'):
        value = cherrypy.session.get(key)
        # Work after the read: a request that changed nothing ends while others run.
        time.sleep(int(ms) / 1000)
        return '' if value is None else str(value)

    @cherrypy.expose
    def dump(self):
        # items() loads the session; dict() keeps insertion order, as repr shows it.
        return repr(dict(cherrypy.session.items()))

    @cherrypy.expose
    def id(self):
        # Reading .id does not load data, so this request never saves the session.
        return cherrypy.session.id

    @cherrypy.expose
    def noop(self):
        return 'noop'

    @cherrypy.expose
    def expire(self):
        sessions.expire()
        return 'expired'

    @cherrypy.expose
    def regenerate(self, touch='0'):
        if touch == '1':
            cherrypy.session.load()
        old = cherrypy.session.id
        cherrypy.tools.sessions.regenerate()
        return '%s %s' % (old, cherrypy.session.id)

    @cherrypy.expose
    def regenerate_session(self, touch='0'):
        # The session object's regenerate(), which handlers call: only the id changes.
        if touch == '1':
            cherrypy.session.load()
        old = cherrypy.session.id
        cherrypy.session.regenerate()
        return '%s %s' % (old, cherrypy.session.id)

    @cherrypy.expose
    def slow_incr(self, key, ms='200'):
        # Read-sleep-write: loses updates unless the session lock serialises requests.
        n = int(cherrypy.session.get(key, 0))
        time.sleep(int(ms) / 1000)
        cherrypy.session[key] = n + 1
        return '%d->%d' % (n, n + 1)

    @cherrypy.expose
    def lock_explicit(self, key, ms='200', release='1', after='0', late=''):
        cherrypy.session.acquire_lock()
        n = int(cherrypy.session.get(key, 0))
        time.sleep(int(ms) / 1000)
        cherrypy.session[key] = n + 1
        if release == '1':
            cherrypy.session.release_lock()
        # Work after the release: the next holder runs meanwhile.
        time.sleep(int(after) / 1000)
        if late:
            # A change after the release.
            cherrypy.session[late] = '1'
        # With release=0 the tool's save() releases the lock after the handler.
        return '%d->%d' % (n, n + 1)

    @cherrypy.expose
    def error500(self, key='e', value='1'):
        # An unexpected exception: CherryPy answers 500 and skips save().
        cherrypy.session[key] = value
        raise RuntimeError('probe: handler failed after writing the session')

    @cherrypy.expose
    def httperror(self, status='404', key='h', value='1'):
        # HTTPError of any status, 500 included, still runs before_finalize, so save().
        cherrypy.session[key] = value
        raise cherrypy.HTTPError(int(status))

    @cherrypy.expose
    def redirect(self, key='r', value='1'):
        cherrypy.session[key] = value
        # Relative, so under /admin/ it points at /admin/get.
        raise cherrypy.HTTPRedirect('get?key=' + key)


def main():
    config, port = sys.argv[1], int(sys.argv[2])

    # cherrypy.quickstart(root, '', config), with the listening address and logging
    # overridden after the file's [global] so any config file can be probed.
    cherrypy.config.update(config)
    cherrypy.config.update({
        'server.socket_host': '127.0.0.1',
        'server.socket_port': port,
        'log.screen': False,
        'log.access_file': '',
        'log.error_file': '',
        'engine.autoreload.on': False,
    })
    root = Probe()
    root.admin = Probe()
    cherrypy.tree.mount(root, '', config)
    cherrypy.engine.signals.subscribe()   # SIGTERM from run_cherrypy.sh stops it cleanly
    cherrypy.engine.start()
    cherrypy.engine.block()


if __name__ == '__main__':
    main()
