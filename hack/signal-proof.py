#!/usr/bin/env python3
"""Checks, with the real Debian binaries on 127.0.0.1, the stop signals the
profiles rely on: each server holds one slow request (3 s), gets a signal
0.5 s into it, and the request either completes (graceful) or is cut.

    apt-get install haproxy apache2 php-fpm libfcgi-bin gunicorn \
        uwsgi-core uwsgi-plugin-python3 caddy puma postgresql  # and node, npm
    python3 hack/signal-proof.py [haproxy apache php_fpm ...]   # as root

Every process it starts runs in its own process group and is killed by that
id; every wait is bounded. It is proof for the profiles' notes, not a test of
graceful: the drill of the test cluster is that.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request

SLOW = 3.0      # seconds a request takes
SIGNAL_AT = 0.5  # seconds into the request when the signal is sent
SETTLE = 1.5     # seconds a server gets between binding its port and the request
BACKEND = 18081  # the slow HTTP backend for the proxies

work = tempfile.mkdtemp(prefix="signal-proof-")


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    return path


def start(argv, **kw):
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, cwd=work, **kw)


def stop(p):
    """Kills the process group: the server and its workers. Twice, as a
    master may fork a worker while the first kill arrives."""
    for _ in range(2):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.2)
    p.wait(timeout=5)


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=SLOW + 5) as r:
            return f"{r.status}"
    except Exception as e:  # the outcome is what is measured
        return type(e).__name__


def fcgi_get(port, script):
    env = dict(os.environ, SCRIPT_FILENAME=script, REQUEST_METHOD="GET", QUERY_STRING="")
    try:
        out = subprocess.run(["cgi-fcgi", "-bind", "-connect", f"127.0.0.1:{port}"], env=env,
                             capture_output=True, timeout=SLOW + 5).stdout
        return "200" if b"done" in out else "cut"
    except subprocess.TimeoutExpired:
        return "timeout"


def exited(p, timeout):
    try:
        p.wait(timeout=timeout)
        return "exited"
    except subprocess.TimeoutExpired:
        return "still running"


def port_free(port, timeout=10):
    """Waits until nothing listens on port: a trial must not talk to the
    dying server of the one before."""
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} still in use")


def trial(name, argv, port, sig, request, signal_group=False, env=None):
    """Starts the server, sends one slow request, the signal at SIGNAL_AT,
    and reports the request's outcome and whether the server exited."""
    port_free(port)
    p = start(argv, env=env)
    try:
        if not wait_port(port):
            return f"{name:9} {sig.name:8} did not start"
        # The socket is bound before the workers and the master's signal
        # handlers are ready (uWSGI): let the server settle.
        time.sleep(SETTLE)
        result = {}
        t = threading.Thread(target=lambda: result.update(r=request()))
        t.start()
        time.sleep(SIGNAL_AT)
        if signal_group:
            os.killpg(p.pid, sig)
        else:
            p.send_signal(sig)
        t.join(SLOW + 10)
        return f"{name:9} {sig.name:8} request: {result.get('r', 'no answer'):10} server: {exited(p, SLOW + 5)}"
    finally:
        stop(p)


def slow_backend():
    script = write("slow.py", f"""
        import http.server, time
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                time.sleep({SLOW})
                self.send_response(200); self.end_headers(); self.wfile.write(b"done")
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("127.0.0.1", {BACKEND}), H).serve_forever()
        """)
    p = start([sys.executable, script])
    wait_port(BACKEND)
    return p


def haproxy():
    cfg = write("haproxy.cfg", f"""
        global
            log stdout format raw local0
        defaults
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        frontend f
            bind 127.0.0.1:18080
            default_backend b
        backend b
            server s 127.0.0.1:{BACKEND}
        """)
    # The official image's entrypoint: haproxy -W -db (master-worker, foreground).
    for sig in (signal.SIGUSR1, signal.SIGTERM):
        yield trial("haproxy", ["haproxy", "-W", "-db", "-f", cfg], 18080, sig, lambda: http_get(18080, "/"))


def apache():
    conf = write("apache.conf", f"""
        ServerRoot /usr/lib/apache2
        LoadModule mpm_event_module modules/mod_mpm_event.so
        LoadModule authz_core_module modules/mod_authz_core.so
        LoadModule proxy_module modules/mod_proxy.so
        LoadModule proxy_http_module modules/mod_proxy_http.so
        Listen 127.0.0.1:18082
        PidFile {work}/apache.pid
        ErrorLog {work}/apache-error.log
        ServerName localhost
        ProxyPass / http://127.0.0.1:{BACKEND}/
        """)
    for sig in (signal.SIGWINCH, signal.SIGTERM):
        yield trial("httpd", ["apache2", "-DFOREGROUND", "-f", conf], 18082, sig, lambda: http_get(18082, "/"))


def php_fpm():
    script = write("slow.php", f"<?php sleep({int(SLOW)}); echo 'done';\n")
    for timeout in ("0", "10"):
        conf = write(f"fpm-{timeout}.conf", f"""
            [global]
            error_log = {work}/fpm.log
            process_control_timeout = {timeout}
            [www]
            listen = 127.0.0.1:19000
            pm = static
            pm.max_children = 2
            """)
        for sig in (signal.SIGQUIT, signal.SIGTERM):
            r = trial("php-fpm", ["php-fpm8.2", "-F", "-R", "-y", conf], 19000, sig, lambda: fcgi_get(19000, script))
            yield r + f"   (process_control_timeout = {timeout})"


def gunicorn():
    write("gapp.py", f"""
        import time
        def app(environ, start_response):
            time.sleep({SLOW})
            start_response("200 OK", [])
            return [b"done"]
        """)
    for sig in (signal.SIGTERM, signal.SIGQUIT):
        yield trial("gunicorn", ["gunicorn", "-w", "2", "-b", "127.0.0.1:18083", "--chdir", work, "gapp:app"], 18083, sig,
                    lambda: http_get(18083, "/"))


def uwsgi():
    write("uapp.py", f"""
        import time
        def application(environ, start_response):
            time.sleep({SLOW})
            start_response("200 OK", [])
            return [b"done"]
        """)
    base = ["uwsgi", "--plugin", "python3", "--master", "--processes", "2", "--http-socket", "127.0.0.1:18084",
            "--chdir", work, "--wsgi-file", "uapp.py"]
    graceful = ["--hook-master-start", "unix_signal:15 gracefully_kill_them_all"]
    for extra in ([], ["--die-on-term"], graceful):
        yield trial("uwsgi", base + extra, 18084, signal.SIGTERM, lambda: http_get(18084, "/")) + "   " + (" ".join(extra) or "(no --die-on-term)")
    # The same options as env vars, which graceful could set without the app's ini.
    for name, value in (("UWSGI_DIE_ON_TERM", "true"), ("UWSGI_HOOK_MASTER_START", "unix_signal:15 gracefully_kill_them_all")):
        yield trial("uwsgi", base, 18084, signal.SIGTERM, lambda: http_get(18084, "/"), env=dict(os.environ, **{name: value})) + f"   env {name}={value}"
    for sig in (signal.SIGINT, signal.SIGQUIT):
        yield trial("uwsgi", base, 18084, sig, lambda: http_get(18084, "/"))


def caddy():
    cfg = write("Caddyfile", f"""
        {{
            admin off
        }}
        http://127.0.0.1:18085 {{
            reverse_proxy 127.0.0.1:{BACKEND}
        }}
        """)
    env = dict(os.environ, HOME=work, XDG_DATA_HOME=work, XDG_CONFIG_HOME=work)
    for sig in (signal.SIGTERM, signal.SIGQUIT):
        port_free(18085)
        p = subprocess.Popen(["caddy", "run", "--config", cfg, "--adapter", "caddyfile"], env=env, cwd=work,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        stop_after = p
        try:
            wait_port(18085)
            result = {}
            t = threading.Thread(target=lambda: result.update(r=http_get(18085, "/")))
            t.start()
            time.sleep(SIGNAL_AT)
            p.send_signal(sig)
            t.join(SLOW + 10)
            yield f"{'caddy':9} {sig.name:8} request: {result.get('r', 'no answer'):10} server: {exited(p, SLOW + 5)}"
        finally:
            stop(stop_after)


def puma():
    write("config.ru", f"""
        run lambda {{ |env| sleep {SLOW}; [200, {{}}, ["done"]] }}
        """)
    for mode, extra in (("single", []), ("cluster", ["-w", "2"])):
        yield trial("puma", ["puma", "-b", "tcp://127.0.0.1:18086", *extra, os.path.join(work, "config.ru")], 18086, signal.SIGTERM,
                    lambda: http_get(18086, "/")) + f"   ({mode} mode)"


def pid1(p):
    """The host PID of the process unshare --fork runs as PID 1 of its namespace."""
    end = time.time() + 5
    while time.time() < end:
        try:
            children = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
            if children:
                return int(children[0])
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no PID 1 found")


def as_pid1(name, argv, port, sig, label):
    """Runs argv as PID 1 of a new PID namespace, as a container runtime does,
    and signals it from outside, as the runtime does. Each call takes its own
    port: a server killed by the previous one may still hold its port."""
    port_free(port)
    p = start(["unshare", "--pid", "--fork", "--mount-proc", *argv], env=dict(os.environ, PORT=str(port)))
    try:
        if not wait_port(port):
            return f"{name:9} {sig.name:8} did not start"
        # The socket is bound before the workers and the master's signal
        # handlers are ready (uWSGI): let the server settle.
        time.sleep(SETTLE)
        result = {}
        t = threading.Thread(target=lambda: result.update(r=http_get(port, "/")))
        t.start()
        time.sleep(SIGNAL_AT)
        os.kill(pid1(p), sig)
        t.join(SLOW + 10)
        return f"{name:9} {sig.name:8} request: {result.get('r', 'no answer'):10} server: {exited(p, SLOW + 5)}   {label}"
    finally:
        stop(p)


def node():
    server = """
        const http = require("http");
        const server = http.createServer((req, res) => setTimeout(() => res.end("done"), %d));
        server.listen(Number(process.env.PORT), "127.0.0.1");
        %s
        """
    write("bare.js", server % (SLOW * 1000, ""))
    write("handler.js", server % (SLOW * 1000, 'process.on("SIGTERM", () => server.close(() => process.exit(0)));'))
    write("package.json", '{"name": "proof", "version": "1.0.0", "scripts": {"start": "node handler.js"}}\n')
    yield as_pid1("node", ["node", os.path.join(work, "bare.js")], 18087, signal.SIGTERM, "PID 1, no SIGTERM handler")
    yield as_pid1("node", ["node", os.path.join(work, "handler.js")], 18088, signal.SIGTERM, "PID 1, server.close() on SIGTERM")
    yield as_pid1("node", ["npm", "--prefix", work, "start"], 18089, signal.SIGTERM, "npm start as PID 1, app with the handler")


def postgresql():
    """PostgreSQL: SIGTERM (smart) waits for every session to end, SIGINT
    (fast) ends them. One idle session (a connection pool's) is held open."""
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    data = os.path.join(work, "pgdata")
    os.makedirs(data)
    shutil.chown(work, "postgres")
    shutil.chown(data, "postgres")
    subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/initdb", "-D", data, "-A", "trust"],
                   check=True, capture_output=True, timeout=120)
    for sig in (signal.SIGTERM, signal.SIGINT):
        port_free(15432)
        server = start(["runuser", "-u", "postgres", "--", f"{bindir}/postgres", "-D", data, "-p", "15432",
                        "-k", work, "-c", "listen_addresses=127.0.0.1"])
        session = None
        try:
            if not wait_port(15432, 30):
                yield f"{'postgres':9} {sig.name:8} did not start"
                continue
            # An idle session, as a pool keeps: psql waits on its stdin.
            session = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", "15432", "-U", "postgres"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
            time.sleep(1)
            postmaster = int(open(os.path.join(data, "postmaster.pid")).readline())
            os.kill(postmaster, sig)
            yield f"{'postgres':9} {sig.name:8} idle session open, server after 5 s: {exited(server, 5)}"
        finally:
            if session:
                stop(session)
            stop(server)


def main():
    only = sys.argv[1:]  # names of checks to run, e.g. php_fpm; all by default
    backend = slow_backend()
    try:
        for check, binary in ((haproxy, "haproxy"), (apache, "apache2"), (php_fpm, "php-fpm8.2"), (gunicorn, "gunicorn"),
                              (uwsgi, "uwsgi"), (caddy, "caddy"), (puma, "puma"), (node, "node"), (postgresql, "psql")):
            if only and check.__name__ not in only:
                continue
            if shutil.which(binary) is None:
                print(f"{binary}: not installed, skipped")
                continue
            for line in check():
                print(line, flush=True)
    finally:
        stop(backend)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
