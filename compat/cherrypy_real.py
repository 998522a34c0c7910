"""Real CherryPy 18.10 reading of one config file; run by oracle.py, not by hand.

Usage (from oracle.py): python -I -X utf8 cherrypy_real.py /abs/path/file.conf

This is what an application does at start-up: `Parser().dict_from_file(path)`, which
imports the modules and calls the functions that the config's values name. Whatever
those print is thrown away; the one line this prints on the original stdout is JSON:
`null` when the reading succeeds, else {"exception": NAME, "message": TEXT}, with
CherryPy's "Config error in section ..." ValueError unwrapped to the error inside it.
"""

import json
import os
import sys

# Keep the real stdout for our one line, then silence fds 1 and 2 for everything else
# (imported modules, C extensions, child processes they start).
result_out = os.fdopen(os.dup(1), 'w')
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
os.dup2(devnull, 2)

try:
    import cherrypy  # noqa: F401  (an application has imported cherrypy by now)
    from cherrypy.lib.reprconf import Parser

    Parser().dict_from_file(sys.argv[1])
    result = None
except BaseException as e:   # SystemExit too: a config can import anything
    name, args, context = type(e).__name__, e.args, ''
    # as_dict wraps value errors as ValueError(msg, inner class name, inner args).
    if (isinstance(e, ValueError) and len(args) == 3 and isinstance(args[0], str)
            and args[0].startswith('Config error in section')):
        name, context, args = args[1], f' ({args[0]})', args[2]
    message = str(args[0]) if len(args) == 1 else (str(args) if args else '')
    result = {'exception': name, 'message': message + context}

result_out.write(json.dumps(result) + '\n')
result_out.flush()
# Do not wait for threads or atexit handlers that the config's imports may have left.
os._exit(0)
