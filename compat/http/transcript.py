"""Run a scripted request sequence against a session server; print a normalised transcript.

Usage: python3 compat/http/transcript.py BASE_URL SCRIPT.json

Standard library only (any Python 3.8+), so the same client drives CherryPy and the
Rust probe server, and two transcripts can be compared with a plain text diff.
The script format and the transcript format are described in compat/http/README.md.

What the transcript keeps is what a client can observe of the session tool: status,
Set-Cookie exactly as sent (only ids and dates replaced), Location, and 200 bodies.
Error pages, Date, Server, Content-Type, Content-Length, ... are framework details
and are left out on purpose.
"""

import email.utils
import http.client
import json
import os
import re
import string
import sys
import threading
import time
import urllib.parse

# A session id is 40 lowercase hex; the guards keep longer hex runs (a 4 KB cookie of
# 'a's) from being cut into fake ids.
ID_RE = re.compile(r'(?<![0-9A-Za-z])[0-9a-f]{40}(?![0-9A-Za-z])')
EXPIRES_RE = re.compile(r'(?i)(expires=)([^;]*)')
# References inside a script's raw Cookie values: <jar:NAME>, <mem:LABEL>, <C*COUNT>.
REF_RE = re.compile(r'<(?:jar:([^>]*)|mem:([^>]*)|(.)\*(\d+))>')
LONG = 200  # printed values longer than this are cut: a 4 KB cookie would swamp the diff


# ---------------------------------------------------------------- normalising

class Placeholders:
    """Ids become <id1>, <id2>, ... in order of first appearance, for the whole run,
    so 'same id as before' and 'a new id' survive the replacement."""

    def __init__(self):
        self.by_id = {}

    def replace(self, text):
        def name(m):
            if m.group(0) not in self.by_id:
                self.by_id[m.group(0)] = '<id%d>' % (len(self.by_id) + 1)
            return self.by_id[m.group(0)]
        return ID_RE.sub(name, text)


def mask_ids(text):
    return ID_RE.sub('<id>', text)


def normalise_dates(set_cookie, now):
    """expires=<RFC 1123 date> -> <date:+60m>: minutes from now, rounded.

    The date must round-trip through the RFC 1123 GMT formatter exactly (weekday,
    zero padding, 'GMT'); anything else is printed as <date:BAD:...> so it fails."""
    def repl(m):
        raw = m.group(2)
        try:
            when = email.utils.parsedate_to_datetime(raw)
            ok = email.utils.format_datetime(when, usegmt=True) == raw
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return m.group(1) + '<date:BAD:%s>' % raw
        minutes = round((when.timestamp() - now) / 60)
        return m.group(1) + '<date:%+dm>' % minutes
    return EXPIRES_RE.sub(repl, set_cookie)


def show(text):
    """Printable, one line, bounded: control characters as \\xNN, long values cut."""
    text = ''.join(c if ' ' <= c != '\x7f' else '\\x%02x' % ord(c) for c in text)
    if len(text) > LONG:
        text = '%s...[%d chars]' % (text[:60], len(text))
    return text


# ---------------------------------------------------------------- cookie jar

class Jar:
    """A browser's jar, reduced to what matters here: one cookie per (name, path),
    the last Set-Cookie wins, expired cookies are dropped, and a request carries
    the cookies whose path matches it, longest path first (RFC 6265 5.3, 5.4).
    Domain and Secure are ignored: every probe runs over plain http on 127.0.0.1."""

    def __init__(self):
        self.cookies = []  # [name, value, path] in creation order

    def update(self, set_cookie, request_path, now):
        first, *attrs = set_cookie.split(';')
        name, _, value = first.strip().partition('=')
        path, expiry = None, None
        max_age = None
        for attr in attrs:
            key, _, val = attr.strip().partition('=')
            key = key.lower()
            if key == 'path' and val.startswith('/'):
                path = val
            elif key == 'max-age':
                try:
                    max_age = float(val)
                except ValueError:
                    pass
            elif key == 'expires':
                try:
                    expiry = email.utils.parsedate_to_datetime(val).timestamp()
                except (TypeError, ValueError):
                    pass
        if path is None:  # default-path: the request path up to its last '/'
            path = request_path[:request_path.rfind('/')] or '/'
        expired = max_age <= 0 if max_age is not None else (
            expiry is not None and expiry <= now)
        for cookie in self.cookies:
            if cookie[0] == name and cookie[2] == path:
                if expired:
                    self.cookies.remove(cookie)
                else:
                    cookie[1] = value
                return
        if not expired:
            self.cookies.append([name, value, path])

    def header(self, request_path):
        def matches(path):
            return request_path == path or request_path.startswith(path) and (
                path.endswith('/') or request_path[len(path)] == '/')
        sent = sorted((c for c in self.cookies if matches(c[2])), key=lambda c: -len(c[2]))
        return '; '.join('%s=%s' % (name, value) for name, value, _ in sent) or None

    def value(self, name):
        for cookie in reversed(self.cookies):
            if cookie[0] == name:
                return cookie[1]
        # A reference to nothing is a script bug; sending '' would test something else.
        sys.exit('transcript: the jar has no cookie named %r' % name)


# ---------------------------------------------------------------- script

def load_script(path, variables=None):
    """The script's steps, with includes expanded and ${var}s substituted."""
    with open(path, encoding='utf-8') as f:
        script = json.load(f)
    # The file's own "vars" are defaults; the including step's "vars" override them.
    variables = dict(script.get('vars', {}), **(variables or {}))
    steps = []
    for step in script['steps']:
        if 'include' in step:
            inner = dict(variables, **step.get('vars', {}))
            steps += load_script(os.path.join(os.path.dirname(path), step['include']), inner)
        else:
            steps.append(substitute(step, variables))
    return steps


def substitute(value, variables):
    if isinstance(value, str):
        return string.Template(value).substitute(variables)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- running

class Client:
    def __init__(self, base_url):
        url = urllib.parse.urlsplit(base_url)
        self.host, self.port = url.hostname, url.port or 80
        self.origin = '%s://%s' % (url.scheme, url.netloc)
        self.jar = Jar()
        self.ids = Placeholders()
        self.memory = {}  # LABEL -> cookie value, from "remember" steps

    def request_headers(self, step):
        """[(name, value)] to send: the jar's Cookie unless the step gives raw ones."""
        path = step['path'].split('?')[0]
        if 'cookie' not in step:
            cookies = [self.jar.header(path)]
        elif step['cookie'] is None:
            cookies = []
        else:
            raw = step['cookie'] if isinstance(step['cookie'], list) else [step['cookie']]
            cookies = [REF_RE.sub(self.resolve, c) for c in raw]
        headers = [('Cookie', c) for c in cookies if c is not None]
        return headers + list(step.get('headers', {}).items())

    def resolve(self, m):
        jar_name, label, char, count = m.groups()
        if jar_name is not None:
            return self.jar.value(jar_name)
        if label is not None:
            if label not in self.memory:
                sys.exit('transcript: <mem:%s> used before a "remember" step set it' % label)
            return self.memory[label]
        return char * int(count)

    def send(self, method, path, headers):
        """One request on its own connection, so requests never share server state
        through keep-alive. Returns (lines, set_cookies, receive_time)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders()
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            return ['  < no response: %s' % type(e).__name__], [], time.time()
        finally:
            conn.close()
        now = time.time()
        set_cookies = resp.msg.get_all('Set-Cookie') or []
        lines = ['  < %d' % resp.status]
        lines += ['  < Set-Cookie: %s' % normalise_dates(c, now) for c in set_cookies]
        location = resp.getheader('Location')
        if location is not None:
            if location.startswith(self.origin):
                location = location[len(self.origin):]
            lines.append('  < Location: %s' % location)
        if resp.status == 200:
            lines.append('  < body: %s' % body.decode('utf-8', 'backslashreplace'))
        return lines, set_cookies, now

    def run(self, steps, out):
        for step in steps:
            if 'note' in step:
                out('# ' + step['note'])
            elif 'sleep_ms' in step:
                out('SLEEP %d ms' % step['sleep_ms'])
                time.sleep(step['sleep_ms'] / 1000)
            elif 'clear_jar' in step:
                out('CLEAR JAR')
                self.jar = Jar()
            elif 'remember' in step:
                # Raw cookies can send this value back after the jar has moved on.
                self.memory[step['remember']] = value = self.jar.value(step['name'])
                out(show(self.ids.replace('REMEMBER %s = %s' % (step['remember'], value))))
            elif 'parallel' in step:
                self.parallel(step, out)
            else:
                self.single(step, out)

    def request_lines(self, method, path, headers):
        lines = ['%s %s' % (method, path)]
        if not any(name == 'Cookie' for name, _ in headers):
            lines.append('  > (no Cookie)')
        return lines + ['  > %s: %s' % (name, value) for name, value in headers]

    def single(self, step, out):
        method, path = step.get('method', 'GET'), step['path']
        headers = self.request_headers(step)
        lines, set_cookies, now = self.send(method, path, headers)
        for line in self.request_lines(method, path, headers) + lines:
            out(show(self.ids.replace(line)))
        # A raw-Cookie step is a hand-crafted client, not the browser: the jar keeps
        # the browser's cookies.
        if 'cookie' not in step:
            for c in set_cookies:
                self.jar.update(c, path.split('?')[0], now)

    def parallel(self, step, out):
        """N identical requests released together; responses sorted for a stable order."""
        method, path, n = step.get('method', 'GET'), step['path'], step['parallel']
        headers = self.request_headers(step)
        start = threading.Barrier(n)
        results = [None] * n

        def worker(i):
            start.wait()
            results[i] = self.send(method, path, headers)
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        for line in self.request_lines('PARALLEL x%d %s' % (n, method), path, headers):
            out(show(self.ids.replace(line)))
        # Sort with ids masked, so new ids are numbered in the printed order whatever
        # order the server answered in.
        results.sort(key=lambda r: [mask_ids(line) for line in r[0]])
        for i, (lines, set_cookies, now) in enumerate(results):
            out('  [%d]' % (i + 1))
            for line in lines:
                out(show(self.ids.replace(line)))
            if 'cookie' not in step:
                for c in set_cookies:
                    self.jar.update(c, path.split('?')[0], now)


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: transcript.py BASE_URL SCRIPT.json')
    client = Client(sys.argv[1])
    client.run(load_script(sys.argv[2]), lambda line: print(line, flush=True))


if __name__ == '__main__':
    main()
