package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A Server is a server Debian packages, built into an image from its .debs
// (DebianRootfs) with a minimal configuration that serves /, /healthz and
// /big (BigBytes at BigRate, paced by the server) on :8080, the way the
// drill's other workloads do. Its STOPSIGNAL is the runtime's SIGTERM, as
// in an image built FROM debian with the package installed.
type Server struct {
	Image      string
	Packages   []string
	Entrypoint []string
	Data       map[string]string // path in the image -> contents
	// Files: path in the image -> path on this machine, for a server
	// Debian does not package (a binary hack/tools.sh built); $VAR and
	// ${VAR} in the path name environment variables, which must be set.
	Files    map[string]string
	Symlinks map[string]string
	Dirs     []string
	Env      []string
}

// Servers by the drill case that runs them (e2e/testdata/drill/servers/NAME.yaml).
var Servers = map[string]Server{
	"apache2": {
		Image:    "graceful.test/apache2-debian:2.4",
		Packages: []string{"apache2-bin"},
		// As Debian's apache2 image recipe would run it; Debian's apache2ctl
		// reads /etc/apache2/envvars, this minimal config needs none.
		Entrypoint: []string{"/usr/sbin/apache2", "-DFOREGROUND", "-f", "/etc/apache2/drill.conf"},
		Data: map[string]string{
			"/etc/apache2/drill.conf": `ServerRoot /usr/lib/apache2
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule env_module modules/mod_env.so
LoadModule ratelimit_module modules/mod_ratelimit.so
Listen 8080
ServerName localhost
User www-data
Group www-data
PidFile /run/apache2/apache2.pid
DefaultRuntimeDir /run/apache2
ErrorLog /dev/stderr
LogLevel warn
KeepAlive On
DocumentRoot /srv
<Location /big>
  SetOutputFilter RATE_LIMIT
  SetEnv rate-limit 1024
</Location>
`,
			"/srv/index.html": "ok\n",
			"/srv/healthz":    "ok\n",
			"/srv/big":        strings.Repeat("graceful", BigBytes/8), // sent at 1 MiB/s (mod_ratelimit)
		},
	},
	// haproxy in front of the drill's backend (a testserver Deployment that
	// is not restarted), found through the Service's environment variables.
	"haproxy": {
		Image:      "graceful.test/haproxy-debian:2.6",
		Packages:   []string{"haproxy"},
		Entrypoint: []string{"/usr/sbin/haproxy", "-W", "-db", "-f", "/etc/haproxy/drill.cfg"},
		Data: map[string]string{
			"/etc/haproxy/drill.cfg": `global
  log stderr format raw local0 warning
defaults
  mode http
  log global
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend web
  bind :8080
  default_backend backend
backend backend
  server backend "${BACKEND_SERVICE_HOST}:${BACKEND_SERVICE_PORT}"
`,
		},
	},
	// nginx and php-fpm in one pod: nginx passes every request to PHP.
	"php-fpm": {
		Image:      "graceful.test/php-fpm-debian:8.2",
		Packages:   []string{"php8.2-fpm"},
		Entrypoint: []string{"/usr/sbin/php-fpm8.2", "--nodaemonize", "--allow-to-run-as-root", "--fpm-config", "/etc/php/drill-fpm.conf"},
		Data: map[string]string{
			// process_control_timeout: the profile's note (0, the default,
			// makes SIGQUIT cut requests as SIGTERM does).
			"/etc/php/drill-fpm.conf": `[global]
error_log = /proc/self/fd/2
daemonize = no
process_control_timeout = 25s
[www]
listen = 0.0.0.0:9000
pm = static
pm.max_children = 8
clear_env = no
`,
			"/etc/php/drill.ini": "output_buffering = 0\nimplicit_flush = 1\n",
			"/srv/index.php":     "<?php echo \"ok\\n\";\n",
			"/srv/big.php": fmt.Sprintf(`<?php
header("Content-Length: %d");
header("Content-Type: application/octet-stream");
$chunk = str_repeat("graceful", 8192);
$start = microtime(true);
for ($sent = 0; $sent < %d; $sent += strlen($chunk)) {
    echo $chunk;
    flush();
    $d = ($sent + strlen($chunk)) / %d - (microtime(true) - $start);
    if ($d > 0) usleep((int)($d * 1e6));
}
`, BigBytes, BigBytes, BigRate),
		},
		Env: []string{"PHP_INI_SCAN_DIR=/etc/php"},
	},
	"nginx-php": {
		Image:      "graceful.test/nginx-php-debian:1.22",
		Packages:   []string{"nginx-light"},
		Entrypoint: []string{"/usr/sbin/nginx", "-c", "/etc/nginx/drill.conf"},
		Data: map[string]string{
			"/etc/nginx/drill.conf": `daemon off;
worker_processes 2;
user nobody nogroup;
error_log stderr warn;
pid /run/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 65s;
  server {
    listen 8080;
    location / {
      fastcgi_pass 127.0.0.1:9000;
      fastcgi_buffering off;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param SCRIPT_FILENAME /srv/index.php;
    }
    location = /big {
      fastcgi_pass 127.0.0.1:9000;
      fastcgi_buffering off;
      fastcgi_read_timeout 60s;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param SCRIPT_FILENAME /srv/big.php;
    }
  }
}
`,
		},
	},
	"gunicorn": {
		Image:    "graceful.test/gunicorn-debian:20.1",
		Packages: []string{"gunicorn"},
		Entrypoint: []string{"/usr/bin/gunicorn", "--chdir", "/srv", "--bind", "0.0.0.0:8080",
			"--workers", "2", "--threads", "8", "app:app"},
		Data: map[string]string{"/srv/app.py": wsgiApp},
	},
	"uwsgi": {
		Image:    "graceful.test/uwsgi-debian:2.0",
		Packages: []string{"uwsgi-core", "uwsgi-plugin-python3"},
		// --die-on-term, as most guides say (uWSGI 2.0 reloads on SIGTERM).
		Entrypoint: []string{"/usr/bin/uwsgi-core", "--plugin", "python311", "--master", "--processes", "2",
			"--threads", "8", "--http-socket", ":8080", "--chdir", "/srv", "--wsgi-file", "app.py", "--die-on-term"},
		Data: map[string]string{"/srv/app.py": wsgiApp},
	},
	"puma": {
		Image:      "graceful.test/puma-debian:5.6",
		Packages:   []string{"puma"},
		Entrypoint: []string{"/usr/bin/puma", "--bind", "tcp://0.0.0.0:8080", "--threads", "8:8", "/srv/config.ru"},
		Data: map[string]string{"/srv/config.ru": fmt.Sprintf(`class Big
  CHUNK = "graceful" * 8192
  def each
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    sent = 0
    while sent < %d
      yield CHUNK
      sent += CHUNK.bytesize
      d = sent.to_f / %d - (Process.clock_gettime(Process::CLOCK_MONOTONIC) - start)
      sleep d if d > 0
    end
  end
end
run lambda { |env|
  if env["PATH_INFO"] == "/big"
    [200, {"Content-Length" => "%d", "Content-Type" => "application/octet-stream"}, Big.new]
  else
    [200, {"Content-Type" => "text/plain"}, ["ok\n"]]
  end
}
`, BigBytes, BigRate, BigBytes)},
	},
	// node as PID 1 without a SIGTERM handler (most apps), and with one.
	"node": {
		Image:      "graceful.test/node-debian:18",
		Packages:   []string{"nodejs"},
		Entrypoint: []string{"/usr/bin/node", "/srv/server.js"},
		Data:       map[string]string{"/srv/server.js": nodeServer},
	},
	"node-handler": {
		Image:      "graceful.test/node-handler-debian:18",
		Packages:   []string{"nodejs"},
		Entrypoint: []string{"/usr/bin/node", "/srv/server.js"},
		Data: map[string]string{"/srv/server.js": nodeServer + `process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
`},
	},
	// Tomcat, started as the official image's `catalina.sh run` ends: exec
	// java ... Bootstrap start. /big is a JSP (compiled by Debian's ECJ).
	"tomcat": {
		Image:    "graceful.test/tomcat-debian:10.1",
		Packages: []string{"tomcat10"},
		Entrypoint: []string{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
			"-Dcatalina.base=/var/lib/tomcat", "-Dcatalina.home=/usr/share/tomcat10", "-Djava.io.tmpdir=/tmp",
			"-cp", "/usr/share/tomcat10/bin/bootstrap.jar:/usr/share/tomcat10/bin/tomcat-juli.jar",
			"org.apache.catalina.startup.Bootstrap", "start"},
		Data: map[string]string{
			// gracefulStopAwaitMillis and bindOnInit: the profile's note
			// (by default Tomcat cuts requests in flight when it stops).
			"/var/lib/tomcat/conf/server.xml": `<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina" gracefulStopAwaitMillis="20000">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000" bindOnInit="false"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
`,
			"/var/lib/tomcat/webapps/ROOT/index.html": "ok\n",
			"/var/lib/tomcat/webapps/ROOT/healthz":    "ok\n",
			"/var/lib/tomcat/webapps/ROOT/WEB-INF/web.xml": `<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
  <servlet><servlet-name>big</servlet-name><jsp-file>/big.jsp</jsp-file></servlet>
  <servlet-mapping><servlet-name>big</servlet-name><url-pattern>/big</url-pattern></servlet-mapping>
</web-app>
`,
			"/var/lib/tomcat/webapps/ROOT/big.jsp": fmt.Sprintf(`<%%@ page trimDirectiveWhitespaces="true" %%><%%
response.setContentType("application/octet-stream");
response.setContentLengthLong(%dL);
byte[] chunk = "graceful".repeat(8192).getBytes();
java.io.OutputStream os = response.getOutputStream();
long start = System.nanoTime();
for (long sent = 0; sent < %dL; ) {
  os.write(chunk);
  os.flush();
  sent += chunk.length;
  long d = (long) (sent * 1e9 / %d) - (System.nanoTime() - start);
  if (d > 0) Thread.sleep(d / 1000000);
}
%%>`, BigBytes, BigBytes, BigRate),
		},
		Symlinks: map[string]string{"/var/lib/tomcat/conf/web.xml": "/usr/share/tomcat10/etc/web.xml"},
		Dirs:     []string{"/var/lib/tomcat/logs", "/var/lib/tomcat/work"},
	},
	// PostgreSQL as uid 999 (the manifest's runAsUser), its cluster made at
	// the first start in the pod's emptyDir, open to the client pod without
	// a password; postgres is PID 1 (exec).
	"postgresql": {
		Image:    "graceful.test/postgresql-debian:15",
		Packages: []string{"postgresql-15"},
		Entrypoint: []string{"/bin/sh", "-c", "[ -s /data/pg/PG_VERSION ] || { /usr/lib/postgresql/15/bin/initdb -D /data/pg -A trust -U postgres >/dev/null && " +
			"echo 'host all all all trust' >> /data/pg/pg_hba.conf; } && " +
			"exec /usr/lib/postgresql/15/bin/postgres -D /data/pg -c listen_addresses=* -c unix_socket_directories=/data"},
	},
	// Redis as PID 1, as the official image runs it; its options (save
	// points, the directory) come from the manifest's args. The redis stop
	// proof and the celery and sidekiq drills (as their broker) use it.
	"redis": {
		Image:      "graceful.test/redis-debian:7.0",
		Packages:   []string{"redis-server"},
		Entrypoint: []string{"/usr/bin/redis-server"},
	},
	// RabbitMQ as the official image runs it: the rabbitmq-server script is
	// PID 1 and, on SIGTERM, stops the node (init:stop) and exits 0.
	// A fixed node name (and HOME, for the cookie) lets the next pod find
	// the data the manifest's volume keeps; guest may log in over the
	// network (loopback_users), only for the test's publisher.
	"rabbitmq": {
		Image:      "graceful.test/rabbitmq-debian:3.10",
		Packages:   []string{"rabbitmq-server"},
		Entrypoint: []string{"/usr/lib/rabbitmq/bin/rabbitmq-server"},
		Data: map[string]string{
			"/etc/rabbitmq/rabbitmq.conf":   "loopback_users = none\n",
			"/etc/rabbitmq/enabled_plugins": "[].\n",
		},
		// The scripts' tools (Debian's coreutils, sed, grep are not dependencies).
		Symlinks: busyboxTools("awk", "basename", "cut", "date", "dirname", "env", "grep", "head", "hostname", "id",
			"mkdir", "readlink", "rm", "sed", "sort", "tail", "tr", "uname", "wc"),
		Env: []string{"HOME=/var/lib/rabbitmq", "RABBITMQ_NODENAME=rabbit@localhost"},
	},
	// Workers for the celery and sidekiq stop proofs, their options from
	// the manifest's args, the broker a "redis" Deployment. The job marks
	// its start and its end in the broker's Redis (started:ID, done:ID), so
	// the test sees whether a job running at the stop finished.
	// Debian's /usr/bin/celery is a sh script that execs python3: the
	// worker is PID 1.
	"celery": {
		Image:      "graceful.test/celery-debian:5.2",
		Packages:   []string{"celery", "python3-redis"},
		Entrypoint: []string{"/usr/bin/celery"},
		Data: map[string]string{"/srv/tasks.py": `import os
import time

import redis
from celery import Celery

app = Celery("tasks", broker=os.environ["REDIS_URL"])
store = redis.Redis.from_url(os.environ["REDIS_URL"])


@app.task
def work(job, seconds):
    store.set("started:" + job, time.time())
    time.sleep(seconds)
    store.set("done:" + job, time.time())
`},
		Env: []string{"PYTHONPATH=/srv", "PYTHONDONTWRITEBYTECODE=1"},
	},
	"sidekiq": {
		Image:      "graceful.test/sidekiq-debian:6.4",
		Packages:   []string{"ruby-sidekiq"},
		Entrypoint: []string{"/usr/bin/sidekiq"},
		Data: map[string]string{"/srv/job.rb": `require "sidekiq"

class SlowJob
  include Sidekiq::Worker

  def perform(job, seconds)
    Sidekiq.redis { |r| r.set("started:#{job}", Time.now.to_f) }
    sleep seconds
    Sidekiq.redis { |r| r.set("done:#{job}", Time.now.to_f) }
  end
end
`},
	},
	// Caddy in front of the drill's backend, like haproxy: Caddy has no
	// bandwidth limit of its own for /big.
	"caddy": {
		Image:      "graceful.test/caddy-debian:2.6",
		Packages:   []string{"caddy"},
		Entrypoint: []string{"/usr/bin/caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"},
		Data: map[string]string{"/etc/caddy/Caddyfile": `{
	admin off
	auto_https off
}
:8080 {
	reverse_proxy {$BACKEND_SERVICE_HOST}:{$BACKEND_SERVICE_PORT}
}
`},
		Env: []string{"HOME=/tmp", "XDG_DATA_HOME=/tmp", "XDG_CONFIG_HOME=/tmp"},
	},
	// Traefik in front of the drill's backend, like haproxy and caddy.
	// Debian does not package it: the binary is hack/tools.sh's build from
	// the Go module proxy (make drill-servers sets GRACEFUL_TRAEFIK), on
	// the packages the official image adds to its base (ca-certificates,
	// tzdata). PID 1 is traefik, as the official image's entrypoint execs
	// it; it reads /etc/traefik/traefik.yml, its default static file. The
	// file provider templates the backend's address (sprig's env).
	"traefik": {
		Image:      "graceful.test/traefik-debian:3.7",
		Packages:   []string{"ca-certificates", "tzdata"},
		Entrypoint: []string{"/usr/local/bin/traefik"},
		Files:      map[string]string{"/usr/local/bin/traefik": "$GRACEFUL_TRAEFIK"},
		Data: map[string]string{
			"/etc/traefik/traefik.yml": `global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: ":8080"
ping:
  entryPoint: web
providers:
  file:
    filename: /etc/traefik/dynamic.yml
log:
  level: WARN
`,
			"/etc/traefik/dynamic.yml": `http:
  routers:
    backend:
      entryPoints: [web]
      rule: 'PathPrefix("/")'
      service: backend
  services:
    backend:
      loadBalancer:
        servers:
          - url: 'http://{{ env "BACKEND_SERVICE_HOST" }}:{{ env "BACKEND_SERVICE_PORT" }}'
`,
		},
	},
}

// busyboxTools links the named commands to the image's busybox.
func busyboxTools(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m["/bin/"+n] = "busybox"
	}
	return m
}

// wsgiApp serves the drill's paths for gunicorn and uWSGI.
var wsgiApp = fmt.Sprintf(`import time

CHUNK = b"graceful" * 8192

def big():
    start = time.monotonic()
    sent = 0
    while sent < %d:
        yield CHUNK
        sent += len(CHUNK)
        d = sent / %d - (time.monotonic() - start)
        if d > 0:
            time.sleep(d)

def app(environ, start_response):
    if environ.get("PATH_INFO") == "/big":
        start_response("200 OK", [("Content-Length", "%d"), ("Content-Type", "application/octet-stream")])
        return big()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]

application = app
`, BigBytes, BigRate, BigBytes)

// nodeServer serves the drill's paths; node-handler appends its handler.
var nodeServer = fmt.Sprintf(`const http = require("http");
const chunk = Buffer.from("graceful".repeat(8192));
const server = http.createServer((req, res) => {
  if (req.url !== "/big") {
    res.end("ok\n");
    return;
  }
  res.writeHead(200, {"Content-Length": %d, "Content-Type": "application/octet-stream"});
  const start = Date.now();
  let sent = 0;
  const next = () => {
    if (sent >= %d) return res.end();
    res.write(chunk);
    sent += chunk.length;
    setTimeout(next, Math.max(0, sent / %d * 1000 - (Date.now() - start)));
  };
  next();
});
server.keepAliveTimeout = 65000;
server.listen(8080);
`, BigBytes, BigBytes, BigRate)

// BuildServers builds the named servers' images from Debian packages (the
// rootfs cached under cache) and imports them with ctr.
func BuildServers(cache, dir string, ctr []string, names ...string) error {
	var images []*Image
	for _, name := range names {
		s, ok := Servers[name]
		if !ok {
			return fmt.Errorf("no server %q", name)
		}
		rootfs, err := DebianRootfs(cache, s.Packages...)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		img := &Image{Name: s.Image, Entrypoint: s.Entrypoint, Env: s.Env, Data: map[string][]byte{
			"/etc/passwd": []byte("root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\npostgres:x:999:999:postgres:/data:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
			"/etc/group":  []byte("root:x:0:\nwww-data:x:33:\npostgres:x:999:\nnogroup:x:65534:\n"),
		}, Symlinks: map[string]string{}, Dirs: append([]string{"/run/apache2", "/var/lib/nginx/body", "/var/log/nginx", "/tmp", "/srv"}, s.Dirs...)}
		for p, v := range s.Symlinks {
			img.Symlinks[p] = v
		}
		for p, v := range s.Data {
			img.Data[p] = []byte(v)
		}
		if len(s.Files) > 0 {
			img.Files = map[string]string{}
		}
		for p, v := range s.Files {
			host, err := expandSet(v)
			if err != nil {
				return fmt.Errorf("%s: %s: %v", name, p, err)
			}
			img.Files[p] = host
		}
		if err := img.AddTree(rootfs); err != nil {
			return err
		}
		img.AddBusybox()
		images = append(images, img)
	}
	return Import(dir, ctr, images...)
}

// expandSet expands $VAR and ${VAR} in path; an unset or empty one is an error.
func expandSet(path string) (string, error) {
	var unset []string
	out := os.Expand(path, func(v string) string {
		val := os.Getenv(v)
		if val == "" {
			unset = append(unset, v)
		}
		return val
	})
	if len(unset) > 0 {
		return "", fmt.Errorf("%s is not set", strings.Join(unset, ", "))
	}
	return out, nil
}

// DebianCache is where DebianRootfs keeps its .debs and trees: next to the
// pinned tools (GRACEFUL_TOOLS_DIR, shared by worktrees), else in .cache.
func DebianCache(root string) string {
	if d := os.Getenv("GRACEFUL_TOOLS_DIR"); d != "" {
		return filepath.Join(d, "debian")
	}
	return filepath.Join(root, ".cache", "tools", "debian")
}
