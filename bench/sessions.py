"""Creates sessions on a bench server and writes them as a wrk Lua script.

Usage: python bench/sessions.py PORT COUNT SCRIPT [--fake]

Sends COUNT `GET /login` requests to 127.0.0.1:PORT on one keep-alive connection, each
without a cookie, so each starts a new session, and takes the `name=value` of each answer's
first Set-Cookie. With --fake (bare actix-web, which sets no cookie) it makes up COUNT
`session_id=<40 hex>` cookies of the same size instead.

SCRIPT gets a wrk script whose requests take the cookies in turn, one per request: with more
sessions than connections, concurrent requests are on different sessions (a site's normal
load); with one session, every request is on it (the contention case). Exits 1 with a
one-line reason on stderr when a session cannot be made.
"""

import http.client
import secrets
import sys


def login_cookies(port, count):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    cookies = []
    for _ in range(count):
        conn.request('GET', '/login')
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit('GET /login answered %d' % response.status)
        header = response.getheader('Set-Cookie')
        if not header:
            raise SystemExit('GET /login set no cookie')
        cookies.append(header.split(';', 1)[0].strip())
    conn.close()
    return cookies


def lua_string(text):
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def main():
    port, count, script = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    fake = sys.argv[4:] == ['--fake']
    try:
        if fake:
            cookies = ['session_id=' + secrets.token_hex(20) for _ in range(count)]
        else:
            cookies = login_cookies(port, count)
    except (OSError, http.client.HTTPException) as e:
        raise SystemExit('GET /login failed: %s' % e)
    with open(script, 'w') as out:
        out.write('-- Written by bench/sessions.py: %d session cookies, taken in turn.\n' % count)
        out.write('local cookies = {\n')
        for cookie in cookies:
            out.write('  %s,\n' % lua_string(cookie))
        out.write('}\n')
        # Requests are formatted once, in init; request() only picks the next one, so the
        # load generator's cost per request is the same for every server.
        out.write('''local requests = {}
local n = 0

function init(args)
  for i, cookie in ipairs(cookies) do
    requests[i] = wrk.format(nil, nil, {Host = wrk.headers["Host"], Cookie = cookie})
  end
end

function request()
  n = n % #requests + 1
  return requests[n]
end
''')


if __name__ == '__main__':
    main()
